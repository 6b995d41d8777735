"""Words a citizen meets (issue 14, "no jargon for citizens"): one verb for tapping, agency groups
in plain words with examples, a description prompt that fits the kind of report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.domain.enums import Classification
from bot.i18n import build_i18n
from bot.services.intake import Draft, Step
from bot.ui import intake_keyboards as kb
from bot.ui import intake_render as r

ROOT = Path(__file__).resolve().parents[2]
OTHER_TAP_VERBS = {"id": r"\b(tekan|menekan|klik|sentuh|pencet)\b", "en": r"\b(press|pressing|click|clicking)\b"}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_one_verb_for_tapping(lang):
    with (ROOT / "bot" / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalog = read_po(fp)
    offenders = [m.string for m in catalog if m.id and re.search(OTHER_TAP_VERBS[lang], m.string, re.I)]
    assert offenders == []


def _render(locale, fn):
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale(locale):
        return fn()


@pytest.mark.parametrize(("locale", "water"), [("id", "PDAM"), ("en", "PDAM")])
def test_agency_step_explains_the_groups_without_acronyms(locale, water):
    def shown():
        draft = Draft(language=locale, classification=Classification.COMPLAINT)
        labels = [b.text for row in kb.agency_kinds_kb("f1").inline_keyboard for b in row]
        return r.prompt(Step.AGENCY, draft), labels

    prompt, labels = _render(locale, shown)
    # No bare acronym a citizen has to decode: "OPD" never, "BUMD" never; PDAM as the example.
    assert not re.search(r"\b(OPD|BUMD)\b", prompt + " ".join(labels))
    assert water in prompt and any(water in label for label in labels)


@pytest.mark.parametrize(
    ("locale", "happened", "want_to_know", "when"),
    [("id", "apa yang terjadi", "ingin anda ketahui", "kapan kejadiannya"),
     ("en", "what happened", "would you like to know", "when did it happen")],
)
def test_the_description_prompt_fits_the_kind(locale, happened, want_to_know, when):
    def prompt(kind):
        return _render(locale, lambda: r.prompt(Step.BODY, Draft(language=locale, classification=kind))).lower()

    assert happened in prompt(Classification.COMPLAINT)
    assert happened not in prompt(Classification.ASPIRATION)
    assert happened not in prompt(Classification.INFORMATION)
    assert want_to_know in prompt(Classification.INFORMATION)
    # Date and place are questions about the event for a complaint only.
    for kind in (Classification.ASPIRATION, Classification.INFORMATION):
        date_prompt = _render(locale, lambda k=kind: r.prompt(Step.DATE, Draft(language=locale, classification=k)))
        assert when not in date_prompt.lower()
    complaint = Draft(language=locale, classification=Classification.COMPLAINT)
    assert when in _render(locale, lambda: r.prompt(Step.DATE, complaint)).lower()
