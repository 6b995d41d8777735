"""All tables. Importing this package registers every model on ``Base.metadata``.

One module per aggregate so features can grow their own tables without touching the others.
"""

from storage.base import Base
from storage.models.agency import Agency
from storage.models.audit import AuditLog
from storage.models.bot_identity import BotIdentity
from storage.models.broadcast import Broadcast
from storage.models.cache_generation import CacheGeneration
from storage.models.case_card import CaseCard
from storage.models.category import Category
from storage.models.citizen import Citizen
from storage.models.command_menu import CommandMenu
from storage.models.follower import ReportFollower
from storage.models.fsm import FsmState
from storage.models.group_chat import AgencyGroup, ReportTopic
from storage.models.integration import (
    ApiKey,
    ApiSubmission,
    WebhookDelivery,
    WebhookTarget,
)
from storage.models.job import DigestItem, JobEffect, JobRun
from storage.models.officer import InviteFailure, Officer, OfficerInvite
from storage.models.outbox import Outbox, OutboxStatus
from storage.models.report import Attachment, Report, ReportEvent
from storage.models.template import ResponseTemplate
from storage.models.update import ReceivedUpdate
from storage.models.walk_in import WalkIn

__all__ = [
    "Agency",
    "ApiKey",
    "ApiSubmission",
    "AgencyGroup",
    "AuditLog",
    "Attachment",
    "Base",
    "BotIdentity",
    "CacheGeneration",
    "Broadcast",
    "CaseCard",
    "Category",
    "Citizen",
    "CommandMenu",
    "DigestItem",
    "FsmState",
    "InviteFailure",
    "JobEffect",
    "JobRun",
    "Officer",
    "OfficerInvite",
    "Outbox",
    "ReceivedUpdate",
    "OutboxStatus",
    "Report",
    "ReportEvent",
    "ReportFollower",
    "ReportTopic",
    "ResponseTemplate",
    "WalkIn",
    "WebhookDelivery",
    "WebhookTarget",
]
