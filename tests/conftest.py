import pytest

from skill.content.loader import LOCALES, load_content
from skill.output.render import Renderer


@pytest.fixture(scope="session")
def content():
    return load_content()


@pytest.fixture(scope="session")
def routine(content):
    return content.routine


@pytest.fixture(scope="session")
def renderers(content):
    return {loc: Renderer(content.for_locale(loc), content.routine) for loc in LOCALES}
