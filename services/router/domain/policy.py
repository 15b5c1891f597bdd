"""The routing policy: queues, match rules, relaxation steps, aging and SLA rules, validated from YAML."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.router.domain.survey_texts import BUILT_IN_TEXTS, FALLBACK_LANGUAGE, SurveyText, language_key

CHANNELS = ("email", "messenger", "instagram", "whatsapp", "telegram", "x")
SOCIAL_CHANNELS = frozenset(CHANNELS) - {"email"}


class PolicyError(ValueError):
    """The policy file is missing, not YAML, or does not validate; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchRule(_Strict):
    """A contact matches when every non-empty criterion matches (a rule with no criteria matches everything)."""

    channels: frozenset[str] = frozenset()
    queue_hints: frozenset[str] = frozenset()
    mailboxes: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; known: {list(CHANNELS)}")
        return value

    @field_validator("mailboxes", "queue_hints")
    @classmethod
    def _lowercase(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(v.lower() for v in value)

    @field_validator("keywords")
    @classmethod
    def _lower_keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.lower() for v in value)


class RelaxationStep(_Strict):
    """What a contact may accept once it has waited `after_s`; steps are cumulative and ordered by time."""

    name: str
    after_s: float = Field(ge=0)
    # Lowers every required minimum proficiency by this much (never below 1).
    lower_min_proficiency_by: int = Field(default=0, ge=0)
    # Extra agent groups (values of AgentSpec.queues) that become eligible, e.g. an overflow group.
    add_groups: frozenset[str] = frozenset()
    # Languages an agent may speak instead of the contact's; such an offer is marked needs_translation.
    fallback_languages: frozenset[str] = frozenset()


class Aging(_Strict):
    """Waiting contacts gain `points` of priority every `every_s`, up to `max_boost`."""

    every_s: float = Field(default=120.0, gt=0)
    points: int = Field(default=1, ge=0)
    max_boost: int = Field(default=5, ge=0)


class Escalation(_Strict):
    """An SLA is at risk once `at_risk_fraction` of it has elapsed; at risk and breach each raise priority once."""

    at_risk_fraction: float = Field(default=0.8, gt=0, lt=1)
    at_risk_boost: int = Field(default=2, ge=0)
    breach_boost: int = Field(default=5, ge=0)


class SurveyPolicy(_Strict):
    """A satisfaction survey after a contact is completed: what it asks, when, on which channels, how often."""

    enabled: bool = False
    # Asked in this order; chat channels ask only the first (a bare-number answer must name one question).
    scales: tuple[Literal["csat", "nps"], ...] = ("csat",)
    delay_s: float = Field(default=60.0, ge=0)
    channels: frozenset[str] = frozenset(CHANNELS)
    # At most one survey per customer within this many days, over all queues (0: no cap).
    cap_days: float = Field(default=30.0, ge=0)
    # The survey's ticket, and so any answer to it, expires this long after it is sent.
    answer_window_h: float = Field(default=72.0, gt=0)

    @field_validator("scales")
    @classmethod
    def _distinct_scales(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("name each of csat and nps at most once, and at least one of them")
        return value

    @field_validator("channels")
    @classmethod
    def _survey_channels(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; known: {list(CHANNELS)}")
        if not value:
            raise ValueError("name at least one channel, or leave `channels` out for all of them")
        return value


class SurveyTemplate(_Strict):
    """Survey texts for one language; for en, hr and sk any field left out keeps the built-in text."""

    subject: str | None = Field(default=None, min_length=1)
    csat_prompt: str | None = Field(default=None, min_length=1)
    nps_prompt: str | None = Field(default=None, min_length=1)
    thanks: str | None = None
    email_intro: str | None = None


class FeedbackRouting(_Strict):
    """Feedback-aware routing, off by default: an agent's recent CSAT for the contact's skills adds
    `weight * (2 * share - 1)` to the agent's score, so within [-weight, +weight]: 0 for a CSAT of 50 % and for an
    agent with fewer than `min_responses` answers in the last `window_days`. With weight <= 0.5 it reorders agents of
    equal proficiency fit (competing with the idle/occupancy tie-breaker), never outweighs a proficiency level for
    contacts of up to 5 required skills (a level is then worth >= 2), and never a sticky agent.
    The decision record shows it as score components `feedback` (the term), `csat` and `csat_responses`."""

    enabled: bool = False
    weight: float = Field(default=0.1, gt=0, le=0.5)
    window_days: float = Field(default=30.0, gt=0, le=90)
    min_responses: int = Field(default=5, ge=1)


class QueuePolicy(_Strict):
    name: str
    # The queue takes a contact when any rule matches; with no rules, only by name or as the default queue.
    match: tuple[MatchRule, ...] = ()
    required_skills: dict[str, int] = Field(default_factory=dict)
    priority: int = 0
    # First-response target per channel; `default` covers channels not listed.
    sla_s: dict[str, float] = Field(default_factory=lambda: {"default": 3600.0})
    scoring: Literal["longest_idle", "least_occupied"] = "longest_idle"
    # None inherits the policy-wide steps.
    relaxation: tuple[RelaxationStep, ...] | None = None
    survey: SurveyPolicy = SurveyPolicy()
    feedback_routing: FeedbackRouting = FeedbackRouting()

    @field_validator("required_skills")
    @classmethod
    def _proficiency_range(cls, value: dict[str, int]) -> dict[str, int]:
        for skill, level in value.items():
            if not 1 <= level <= 5:
                raise ValueError(f"required skill {skill!r}: min proficiency {level} is outside 1..5")
        return value

    @field_validator("sla_s")
    @classmethod
    def _sla_channels(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CHANNELS) - {"default", "social"})
        if unknown:
            raise ValueError(f"sla_s: unknown channel(s) {unknown}; use a channel, 'social' or 'default'")
        if any(v <= 0 for v in value.values()):
            raise ValueError("sla_s: targets must be positive seconds")
        return value

    def sla_for(self, channel: str) -> float:
        if channel in self.sla_s:
            return self.sla_s[channel]
        if channel in SOCIAL_CHANNELS and "social" in self.sla_s:
            return self.sla_s["social"]
        return self.sla_s.get("default", 3600.0)


class StickyRouting(_Strict):
    """The previous agent of a conversation or customer wins when eligible; when online but busy, wait a bit."""

    enabled: bool = True
    window_s: float = Field(default=7 * 24 * 3600.0, ge=0)
    wait_for_previous_s: float = Field(default=30.0, ge=0)


class RoutingPolicy(_Strict):
    queues: tuple[QueuePolicy, ...]
    # Queue for contacts no rule matches.
    default_queue: str
    relaxation: tuple[RelaxationStep, ...] = ()
    offer_timeout_s: float = Field(default=20.0, gt=0)
    max_offer_attempts: int = Field(default=5, ge=1)
    wrap_up_s: float = Field(default=0.0, ge=0)
    disconnect_grace_s: float = Field(default=120.0, ge=0)
    aging: Aging = Aging()
    escalation: Escalation = Escalation()
    sticky: StickyRouting = StickyRouting()
    languages: frozenset[str] = frozenset()
    # How long after the customer's message a channel still lets us answer (Meta's Messenger, Instagram and
    # WhatsApp: 24 h); a contact still waiting when it closes is abandoned, as no agent could answer it there.
    reply_window_s: dict[str, float] = Field(default_factory=dict)
    # Survey texts by language, over the built-in en, hr and sk; other languages fall back to en.
    survey_templates: dict[str, SurveyTemplate] = Field(default_factory=dict)

    @field_validator("reply_window_s")
    @classmethod
    def _reply_window_channels(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CHANNELS) - {"social"})
        if unknown:
            raise ValueError(f"reply_window_s: unknown channel(s) {unknown}; use a channel or 'social'")
        if any(v <= 0 for v in value.values()):
            raise ValueError("reply_window_s: windows must be positive seconds")
        return value

    def reply_window_for(self, channel: str) -> float:
        """Seconds after the customer's message during which an answer is still possible (inf: no limit)."""
        if channel in self.reply_window_s:
            return self.reply_window_s[channel]
        if channel in SOCIAL_CHANNELS and "social" in self.reply_window_s:
            return self.reply_window_s["social"]
        return math.inf

    @field_validator("survey_templates")
    @classmethod
    def _complete_templates(cls, value: dict[str, SurveyTemplate]) -> dict[str, SurveyTemplate]:
        for language, template in value.items():
            if language != language_key(language) or not language.isalpha():
                raise ValueError(f"{language!r}: use a lower-case primary language tag such as 'de'")
            missing = [f for f in ("subject", "csat_prompt", "nps_prompt") if getattr(template, f) is None]
            if language not in BUILT_IN_TEXTS and missing:
                raise ValueError(f"{language}: a language without built-in texts needs {', '.join(missing)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RoutingPolicy:
        names = [q.name for q in self.queues]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate queue name(s) {duplicates}")
        if self.default_queue not in names:
            raise ValueError(f"default_queue {self.default_queue!r} is not one of the queues {names}")
        for steps, owner in [(self.relaxation, "relaxation"), *((q.relaxation, q.name) for q in self.queues)]:
            if steps is None:
                continue
            times = [s.after_s for s in steps]
            if times != sorted(times):
                raise ValueError(f"{owner}: relaxation steps must be ordered by after_s")
        return self

    def queue(self, name: str) -> QueuePolicy:
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise KeyError(name)

    def steps_for(self, queue: QueuePolicy) -> tuple[RelaxationStep, ...]:
        return self.relaxation if queue.relaxation is None else queue.relaxation

    def survey_text(self, language: str) -> SurveyText:
        """The survey texts for a contact's language: the YAML's over the built-in ones, else English."""
        key = language_key(language)
        if key not in self.survey_templates and key not in BUILT_IN_TEXTS:
            key = FALLBACK_LANGUAGE
        base = BUILT_IN_TEXTS.get(key, SurveyText("", "", ""))
        template = self.survey_templates.get(key)
        if template is None:
            return base
        return SurveyText(
            subject=template.subject or base.subject,
            csat_prompt=template.csat_prompt or base.csat_prompt,
            nps_prompt=template.nps_prompt or base.nps_prompt,
            thanks=base.thanks if template.thanks is None else template.thanks,
            email_intro=base.email_intro if template.email_intro is None else template.email_intro,
        )


def parse_policy(data: Any, source: str = "<policy>") -> RoutingPolicy:
    try:
        return RoutingPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise PolicyError(f"{source}: invalid routing policy: {problems}") from exc


def load_policy(path: str | Path) -> RoutingPolicy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: not UTF-8 text at byte {exc.start}") from exc
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read routing policy: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        # PyYAML's tag constructors (!!float '', !!bool maybe, !!timestamp …) raise these instead of YAMLError.
        raise PolicyError(f"{path}: not valid YAML: a tagged value cannot be converted ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: routing policy must be a mapping at the top level")
    return parse_policy(data, str(path))
