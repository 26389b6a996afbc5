"""Telephony configuration (``[plugins.telephony]``) and the plan the service derives from it.

Section numbers refer to the project's telephony reference.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Literal

import msgspec

from core.telephony import fsm

DIGITS = r"^\d{1,15}$"  # CCE sign-in extensions are digits only (§1.2)
PHONE_NUMBER = r"^\+?\d{3,20}$"
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class ExtensionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An extension the phone system knows; ``offline`` fails sign-in with Invalid Device (§1.2)."""

    extension: Annotated[str, msgspec.Meta(pattern=DIGITS)]
    status: Literal["valid", "offline"] = "valid"


class ReasonCodeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A configured Not Ready or Logout reason code (§1.5); ``id`` defaults to the code."""

    code: Annotated[int, msgspec.Meta(ge=1, le=65535)]
    label: Label
    id: Annotated[int, msgspec.Meta(ge=1)] | None = None


class WrapUpConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Wrap-up on incoming and outgoing calls (§1.6); ``timer_seconds`` 0 means untimed."""

    mode: Literal["REQUIRED", "OPTIONAL", "NOT_ALLOWED", "REQUIRED_WITH_WRAP_UP_DATA"] = "REQUIRED"
    timer_seconds: Annotated[int, msgspec.Meta(ge=0, le=7200)] = 60
    reasons: list[Label] = msgspec.field(
        default_factory=lambda: [
            "Billing question",
            "Payment arrangement",
            "Start/stop service",
            "Outage report",
            "Transferred to agency",
            "Other",
        ]
    )


class TeamConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A team: its leads (who may act on its agents) and agents, by staff name.

    ``skills`` are the queues' skills its agents have; empty means they serve every queue.
    """

    name: str = ""
    leads: list[str] = []
    agents: list[str] = []
    skills: list[str] = []


class QueueConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A queue (skill group, §2.1); ``skills`` empty means every agent may take its calls."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    number: Annotated[str, msgspec.Meta(pattern=DIGITS)]
    skills: list[str] = []


def _demo_extensions() -> list[ExtensionConfig]:
    valid = [ExtensionConfig(extension=str(n)) for n in range(1001, 1021)]
    return [*valid, ExtensionConfig(extension="1099", status="offline")]


def _demo_queues() -> list[QueueConfig]:
    return [
        QueueConfig(name="Billing", number="7001", skills=["billing"]),
        QueueConfig(name="Payments", number="7002", skills=["billing", "payments"]),
        QueueConfig(name="Outage", number="7003", skills=["outage"]),
        QueueConfig(name="Start/Stop", number="7004", skills=["service"]),
    ]


class TelephonyConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.telephony]`` in hub.toml.  The defaults are a small demo centre, so the hub works bare.

    ``rona_seconds``: how long an offered call rings before RONA (§2.2).  ``tick_seconds``: how often this
    process applies due RONA and wrap-up timers; 0 leaves that to another process (or to tests, which call
    ``tick`` themselves).  ``allow_offnet_transfer``: False blocks single-step transfers to outside
    numbers, as a PBX's toll-fraud setting does (§4).  External directory numbers are fictional 555-01xx.
    """

    extensions: list[ExtensionConfig] = msgspec.field(default_factory=_demo_extensions)
    not_ready_reasons: list[ReasonCodeConfig] = msgspec.field(
        default_factory=lambda: [
            ReasonCodeConfig(code=1, label="Break"),
            ReasonCodeConfig(code=2, label="Lunch"),
            ReasonCodeConfig(code=3, label="Meeting"),
            ReasonCodeConfig(code=4, label="Training"),
            ReasonCodeConfig(code=5, label="Follow-up work"),
        ]
    )
    logout_reasons: list[ReasonCodeConfig] = msgspec.field(
        default_factory=lambda: [
            ReasonCodeConfig(code=21, label="End of shift"),
            ReasonCodeConfig(code=22, label="Personal"),
        ]
    )
    wrap_up: WrapUpConfig = msgspec.field(default_factory=WrapUpConfig)
    teams: dict[Annotated[str, msgspec.Meta(min_length=1, max_length=40)], TeamConfig] = msgspec.field(
        default_factory=lambda: {
            "call-center": TeamConfig(name="Call Center", leads=["lead"], agents=["csr"])
        }
    )
    queues: list[QueueConfig] = msgspec.field(default_factory=_demo_queues)
    external_directory: dict[Label, Annotated[str, msgspec.Meta(pattern=PHONE_NUMBER)]] = msgspec.field(
        default_factory=lambda: {
            "Gas company emergency": "8005550101",
            "City 311": "2135550111",
            "Sanitation": "2135550122",
            "County social services": "2135550133",
        }
    )
    rona_seconds: Annotated[int, msgspec.Meta(ge=1, le=300)] = 15
    tick_seconds: Annotated[float, msgspec.Meta(ge=0, le=60)] = 1.0
    allow_offnet_transfer: bool = True
    max_conference_parties: Annotated[int, msgspec.Meta(ge=3, le=16)] = 6

    def __post_init__(self) -> None:
        # Raising here makes the plugin config_invalid with the message (msgspec wraps it).
        _check_unique("extension", [e.extension for e in self.extensions])
        _check_unique("queue name", [q.name for q in self.queues])
        _check_unique("queue number", [q.number for q in self.queues])
        clash = {e.extension for e in self.extensions} & {q.number for q in self.queues}
        if clash:
            raise ValueError(f"queue numbers collide with extensions: {sorted(clash)}")
        _check_unique("team agent", [a for t in self.teams.values() for a in t.agents])
        _check_unique("wrap-up reason", self.wrap_up.reasons)
        PhonePlan(self)  # the reason-code catalogue validates ids, codes and labels (§1.5)


def _check_unique(what: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


class PhonePlan:
    """The config turned into the domain objects and look-ups the service needs."""

    def __init__(self, config: TelephonyConfig) -> None:
        self.config = config
        nr, lo = fsm.ReasonCategory.NOT_READY, fsm.ReasonCategory.LOGOUT
        self.catalog = fsm.ReasonCodeCatalog(
            [
                fsm.ReasonCode(code=r.code, label=r.label, category=nr, id=r.id)
                for r in config.not_ready_reasons
            ]
            + [
                fsm.ReasonCode(code=r.code, label=r.label, category=lo, id=r.id)
                for r in config.logout_reasons
            ]
        )
        mode = fsm.WrapUpMode(config.wrap_up.mode)
        self.wrap_up = fsm.WrapUpSettings(mode, mode, config.wrap_up.timer_seconds)
        self.wrap_up_reasons = fsm.WrapUpReasonList(fsm.WrapUpReason(r) for r in config.wrap_up.reasons)
        self.rona = dt.timedelta(seconds=config.rona_seconds)
        self.team_of: dict[str, str] = {}
        self.leads: set[str] = set()
        self.overseen: dict[str, set[str]] = {}
        for team_id, team in config.teams.items():
            for agent in team.agents:
                self.team_of[agent] = team_id
            for lead in team.leads:
                self.team_of.setdefault(lead, team_id)
                self.leads.add(lead)
                self.overseen.setdefault(lead, set()).update(team.agents, team.leads)
        self.queues_by_key: dict[str, QueueConfig] = {}
        for q in config.queues:
            self.queues_by_key[q.name] = q
            self.queues_by_key[q.number] = q
        self.directory_numbers = set(config.external_directory.values())

    def team_name(self, team_id: str | None) -> str | None:
        if team_id is None:
            return None
        return self.config.teams[team_id].name or team_id

    def queue(self, key: str | None) -> QueueConfig | None:
        return self.queues_by_key.get(key) if key else None

    def serves(self, agent_id: str, queue: QueueConfig) -> bool:
        """Whether the agent has a skill of the queue (§2.1); no team or no skills means every queue."""
        team_id = self.team_of.get(agent_id)
        skills = self.config.teams[team_id].skills if team_id else []
        return not queue.skills or not skills or bool(set(skills) & set(queue.skills))

    def external_number(self, key: str) -> str | None:
        if key in self.config.external_directory:
            return self.config.external_directory[key]
        return key if key in self.directory_numbers else None

    def team_members(self) -> set[str]:
        return set(self.team_of)

    def with_profile(self, agent: fsm.Agent) -> fsm.Agent:
        """The agent with the team, roles and wrap-up settings of this plan (§1.9 User fields): they come
        from config and follow its changes, never from the stored snapshot."""
        team_id = self.team_of.get(agent.agent_id)
        roles = ("Agent", "Supervisor") if agent.agent_id in self.leads else ("Agent",)
        return replace(
            agent,
            wrap_up=self.wrap_up,
            team_id=team_id,
            team_name=self.team_name(team_id),
            login_name=agent.agent_id,
            roles=roles,
        )
