"""Alexa's rules for one outputSpeech, checked on rendered SSML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from skill.output.timing import break_seconds

ALEXA_TAGS = {"speak", "p", "s", "break", "emphasis", "lang", "phoneme", "prosody", "say-as",
              "sub", "voice", "w", "audio"}


def ssml_problems(ssml: str) -> list[str]:
    problems = []
    if len(ssml) > 8000:
        problems.append(f"{len(ssml)} characters (> 8000)")
    try:
        root = ET.fromstring(ssml)
    except ET.ParseError as e:
        return problems + [f"not well-formed XML: {e}"]
    if root.tag != "speak":
        problems.append(f"root is <{root.tag}>, not <speak>")
    for el in root.iter():
        if el.tag not in ALEXA_TAGS:
            problems.append(f"<{el.tag}> is not an Alexa SSML tag")
        if el.tag == "break" and break_seconds(el.attrib) > 10:
            problems.append(f"<break> of {el.attrib} is over 10 s")
    if not re.sub(r"<[^>]+>", "", ssml).strip():
        problems.append("says nothing")
    return problems
