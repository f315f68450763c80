// The conversation log: what the user said and how it was heard, what Alexa said.

import { append, el, t } from "./page.js";
import { formatSeconds } from "./player.js";

export function showUser(text, heard) {
  const item = el("li", "turn user");
  item.append(el("p", "said", text));
  if (heard) item.append(describeHeard(heard));
  return append(item);
}

function describeHeard(heard) {
  const line = el("p", "heard");
  line.append(`${t("heardAs")} `);
  const name = heard.intent || t("launch");
  line.append(el("span", "intent", name));
  if (heard.invocation === "one_shot") line.append(` · ${t("oneShot")}`);
  for (const slot of Object.values(heard.slots || {})) {
    if (slot.value === undefined) continue;
    const authority = slot.resolutions?.resolutionsPerAuthority?.[0];
    const ids = (authority?.values || []).map((v) => v.value.id).join(", ");
    const code = authority ? ` ${authority.status.code}${ids ? " → " + ids : ""}` : "";
    line.append(el("span", "slot", `${slot.name} = “${slot.value}”${code}`));
  }
  if (heard.intent === "AMAZON.FallbackIntent") line.append(el("span", "slot fallback", t("fallback")));
  if (heard.closest?.length) {
    const wrap = el("div", "closest");
    wrap.append(el("span", "label", t("closest")));
    const list = el("ul", "");
    for (const sample of heard.closest) list.append(el("li", "", sample));
    wrap.append(list);
    const holder = el("div", "");
    holder.append(line, wrap);
    return holder;
  }
  return line;
}

export function speechNodes(segments) {
  const paragraph = el("p", "speech");
  const nodes = [];
  for (const seg of segments) {
    let node = null;
    if (seg.pause) {
      if (seg.pause >= 1) {
        node = el("span", "pause", formatSeconds(seg.pause));
        node.dataset.seconds = String(seg.pause);
        paragraph.append(" ", node, " ");
      }
    } else {
      node = el("span", "seg", seg.text);
      paragraph.append(node, " ");
    }
    nodes.push(node);
  }
  return { paragraph, nodes };
}

export function showAlexa(reply, exchange) {
  const item = el("li", "turn alexa");
  item.append(el("p", "who", t("alexa")));
  const { paragraph, nodes } = speechNodes(reply.speech);
  item.append(paragraph);
  if (reply.reprompt.length) {
    const reprompt = el("p", "reprompt");
    reprompt.append(el("span", "label", t("reprompt")), reply.repromptText);
    item.append(reprompt);
  }
  if (reply.card) {
    const card = el("article", "card");
    card.append(el("h2", "", reply.card.title), el("p", "", reply.card.text));
    item.append(card);
  }
  item.append(el("p", `session-state ${reply.sessionOpen ? "open" : "ended"}`,
    reply.sessionOpen ? t("sessionOpen") : t("sessionEnded")));
  const details = el("details", "json");
  details.append(el("summary", "", t("json")),
    el("pre", "", JSON.stringify({ request: exchange.request, response: reply.envelope }, null, 2)));
  item.append(details);
  append(item);
  return nodes;
}


export function showReprompt(segments) {
  const item = el("li", "turn alexa");
  item.append(el("p", "who", `${t("alexa")} · ${t("reprompt")}`));
  const { paragraph, nodes } = speechNodes(segments);
  item.append(paragraph);
  append(item);
  return nodes;
}
