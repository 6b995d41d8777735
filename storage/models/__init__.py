"""All tables. Importing this package registers every model on ``Base.metadata``.

One module per aggregate so features can grow their own tables without touching the others.
"""

from storage.base import Base
from storage.models.agency import Agency
from storage.models.citizen import Citizen
from storage.models.report import Attachment, Report, ReportEvent

__all__ = ["Agency", "Attachment", "Base", "Citizen", "Report", "ReportEvent"]
