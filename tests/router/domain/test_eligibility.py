"""Every eligibility filter on its own, and how relaxation steps loosen them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.router.domain.eligibility import Eligibility, eligibility_for, step_profiles
from services.router.domain.model import Agent, Contact, Presence
from services.router.domain.policy import RelaxationStep

from .builders import T0, agent, contact

STEPS = (
    RelaxationStep(name="lower", after_s=60, lower_min_proficiency_by=1),
    RelaxationStep(name="overflow", after_s=300, add_groups=frozenset({"overflow"})),
    RelaxationStep(name="fallback", after_s=600, fallback_languages=frozenset({"en"})),
)


def waiting(language: str = "hr", skills: dict[str, int] | None = None, step_index: int = -1) -> Contact:
    request = contact(language=language)
    return Contact(
        request=request,
        queue="general",
        base_priority=0,
        queued_at=T0,
        sla_deadline=T0 + 3600,
        required_skills=skills if skills is not None else {"general": 3},
        step_index=step_index,
    )


def requirements(contact: Contact) -> Eligibility:
    return eligibility_for(contact, step_profiles(STEPS)[contact.step_index + 1])


def live(**kwargs: object) -> Agent:
    spec = agent(languages=("hr",), **kwargs)  # type: ignore[arg-type]
    return Agent(spec=spec, presence=Presence.AVAILABLE)


def base() -> Eligibility:
    return requirements(waiting())


def test_available_member_with_skill_language_and_capacity_is_eligible() -> None:
    assert base().rejection(live()) is None


@pytest.mark.parametrize("presence", [Presence.AWAY, Presence.OFFLINE])
def test_agent_not_available_is_filtered_as_offline(presence: Presence) -> None:
    candidate = live()
    candidate.presence = presence
    assert base().rejection(candidate) == "offline"


def test_inactive_profile_is_filtered_as_offline() -> None:
    assert base().rejection(live(active=False)) == "offline"


def test_full_capacity_on_the_contacts_channel_is_filtered() -> None:
    candidate = live(capacity={"email": 1, "whatsapp": 3})
    candidate.take("email", T0)
    assert base().rejection(candidate) == "capacity"
    assert replace(base(), channel="whatsapp").rejection(candidate) is None


def test_no_capacity_configured_for_the_channel_means_not_eligible() -> None:
    assert replace(base(), channel="telegram").rejection(live()) == "capacity"


def test_an_agent_with_a_pending_offer_takes_no_second_offer() -> None:
    candidate = live()
    candidate.offer_id = "other#1"
    assert base().rejection(candidate) == "capacity"


def test_agent_outside_the_queue_group_is_filtered_as_membership() -> None:
    assert base().rejection(live(queues=("billing",))) == "membership"


def test_skill_below_minimum_or_missing_is_filtered() -> None:
    assert base().rejection(live(skills={"general": 2})) == "skill"
    assert base().rejection(live(skills={"billing": 5})) == "skill"


def test_agent_not_speaking_the_language_is_filtered() -> None:
    candidate = Agent(spec=agent(languages=("de", "en")), presence=Presence.AVAILABLE)
    assert base().rejection(candidate) == "language"


def test_undetermined_language_accepts_any_speaker() -> None:
    candidate = Agent(spec=agent(languages=("de",)), presence=Presence.AVAILABLE)
    assert requirements(waiting(language="und")).rejection(candidate) is None


def test_agent_who_declined_the_contact_is_not_asked_again() -> None:
    declined = waiting()
    declined.declined_by.add("a1")
    assert requirements(declined).rejection(live()) == "declined"


def test_first_step_lowers_minimum_proficiency_but_never_below_one() -> None:
    relaxed = requirements(waiting(skills={"general": 3, "vip": 1}, step_index=0))
    assert dict(relaxed.skills) == {"general": 2, "vip": 1}
    assert relaxed.rejection(live(skills={"general": 2, "vip": 1})) is None
    assert relaxed.step_name == "lower"


def test_overflow_step_widens_membership() -> None:
    overflow_agent = live(queues=("overflow",))
    assert requirements(waiting(step_index=0)).rejection(overflow_agent) == "membership"
    assert requirements(waiting(step_index=1)).rejection(overflow_agent) is None


def test_fallback_language_step_allows_other_speakers_and_marks_translation() -> None:
    english = Agent(spec=agent(languages=("en",)), presence=Presence.AVAILABLE)
    assert requirements(waiting(step_index=1)).rejection(english) == "language"
    relaxed = requirements(waiting(step_index=2))
    assert relaxed.rejection(english) is None
    assert relaxed.needs_translation(english)
    assert not relaxed.needs_translation(live())


def test_requirements_shared_while_nobody_declined_are_rebuilt_on_the_first_decline() -> None:
    first, second = waiting(), waiting()
    assert requirements(first) is requirements(second)
    first.eligibility = requirements(first)
    first.decline("a1")
    assert first.eligibility is None
    assert requirements(first).rejection(live()) == "declined"
    assert requirements(second).rejection(live()) is None
