"""Short labels for fact types and digest markers, in German and English."""

from __future__ import annotations

FACT_TYPES = (
    "confirmation",
    "statement",
    "thanks_praise",
    "reaction_criticism",
    "demand",
    "meeting_visit",
    "military_action",
    "agreement",
    "number_estimate",
    "denial",
    "warning_threat",
    "decision_policy",
    "other",
)

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "confirmation": "Confirmed",
        "statement": "Statements",
        "thanks_praise": "Thanks and praise",
        "reaction_criticism": "Reactions and criticism",
        "demand": "Demands",
        "meeting_visit": "Meetings and visits",
        "military_action": "Military action",
        "agreement": "Agreements",
        "number_estimate": "Figures",
        "denial": "Denials",
        "warning_threat": "Warnings and threats",
        "decision_policy": "Decisions",
        "other": "Also",
        "new_story": "New story",
        "update": "Update",
        "also_reported_by": "Also reported by",
        "sources": "Sources",
        "continued": "continued",
        "facts": "new facts",
        "more": "more",
    },
    "de": {
        "confirmation": "Bestätigt",
        "statement": "Aussagen",
        "thanks_praise": "Dank und Lob",
        "reaction_criticism": "Reaktionen und Kritik",
        "demand": "Forderungen",
        "meeting_visit": "Treffen und Besuche",
        "military_action": "Militärisches",
        "agreement": "Vereinbarungen",
        "number_estimate": "Zahlen",
        "denial": "Dementis",
        "warning_threat": "Warnungen und Drohungen",
        "decision_policy": "Beschlüsse",
        "other": "Außerdem",
        "new_story": "Neue Meldung",
        "update": "Update",
        "also_reported_by": "Auch berichtet von",
        "sources": "Quellen",
        "continued": "Fortsetzung",
        "facts": "neue Fakten",
        "more": "weitere",
    },
}


def labels(language: str) -> dict[str, str]:
    """The label set for ``language``; English for anything but German."""
    return _LABELS.get(language, _LABELS["en"])
