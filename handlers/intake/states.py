"""The /lapor form's states, one per step."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup

from bot.services.intake import Step


class ReportForm(StatesGroup):
    classification = State()
    category = State()
    agency = State()
    title = State()
    body = State()
    incident_date = State()
    location = State()
    attachments = State()
    privacy = State()
    confirm = State()


STATE_OF: dict[Step, State] = {
    Step.CLASSIFICATION: ReportForm.classification,
    Step.CATEGORY: ReportForm.category,
    Step.AGENCY: ReportForm.agency,
    Step.TITLE: ReportForm.title,
    Step.BODY: ReportForm.body,
    Step.DATE: ReportForm.incident_date,
    Step.LOCATION: ReportForm.location,
    Step.ATTACHMENTS: ReportForm.attachments,
    Step.PRIVACY: ReportForm.privacy,
    Step.CONFIRM: ReportForm.confirm,
}
STEP_OF: dict[str, Step] = {state.state: step for step, state in STATE_OF.items()}
