"""/statistik [year] (summary and chart, the agencies on demand) and /ekspor [year] [csv|xlsx]
(a file). Admins only."""

from __future__ import annotations

import logging
from datetime import date

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, FSInputFile, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.access import Actor
from bot.domain.workdays import WorkCalendar
from bot.filters import PRIVATE_CHAT
from bot.services import export_files
from bot.services.export import ExportFormat, export_year
from bot.services.statistics import StatsCache, YearStats, year_statistics
from bot.ui.admin_callbacks import ExportCb, StatsAgenciesCb
from bot.ui.admin_keyboards import export_keyboard, stats_keyboard
from bot.ui.chart_worker import prewarm, statistics_png
from bot.ui.formatting import number
from bot.ui.render import split_html
from bot.ui.stats_render import agency_parts, agency_rows, category_parts, channel_parts, kecamatan_parts, summary

log = logging.getLogger(__name__)

FIRST_YEAR = 2000


def parse_year(arg: str | None, today: date) -> int | None:
    """The year asked for, this year when none; None when it is not a sensible year."""
    if not arg:
        return today.year
    try:
        year = int(arg)
    except ValueError:
        return None
    return year if FIRST_YEAR <= year <= today.year else None


def _bad_year(today: date) -> str:
    return _("Give a year between {first} and {last}, e.g. <code>/statistik {last}</code>.").format(
        first=FIRST_YEAR, last=today.year)


async def statistics(message: Message, command: CommandObject, session: AsyncSession,
                     actor: Actor, calendar: WorkCalendar, stats_cache: StatsCache) -> None:
    today = calendar.today()
    year = parse_year((command.args or "").strip(), today)
    if year is None:
        await message.answer(_bad_year(today))
        return
    prewarm()  # the first chart's worker starts while the figures are counted
    stats = await year_statistics(session, year, calendar, today, cache=stats_cache)
    # The figures at once; the chart follows when the worker has drawn it (seconds; the first
    # one after a start more), so it never holds the answer back.
    await message.answer(summary(stats), reply_markup=stats_keyboard(year, len(agency_rows(stats))))
    # Nothing to write: end the read transaction so no connection idles while the chart is drawn.
    await session.commit()
    await _send_chart(message, stats)


async def _send_chart(message: Message, stats: YearStats) -> None:
    try:
        # Drawn in the chart worker process: off the event loop and off the bot's GIL.
        png = await statistics_png(stats)
    except Exception:  # the figures are out already; a failed chart must not fail (replay) the update
        log.exception("the statistics chart of %s failed", stats.year)
        return
    await message.answer_photo(BufferedInputFile(png, f"statistik-{stats.year}.png"),
                               caption=_("Statistics {year}").format(year=stats.year))


async def statistics_per_agency(callback: CallbackQuery, callback_data: StatsAgenciesCb,
                                session: AsyncSession, calendar: WorkCalendar,
                                stats_cache: StatsCache) -> None:
    today = calendar.today()
    if parse_year(str(callback_data.year), today) is None:  # forged
        await callback.answer(_bad_year(today), show_alert=True)
        return
    stats = await year_statistics(session, callback_data.year, calendar, today, cache=stats_cache)
    await callback.answer()
    parts = agency_parts(stats) + kecamatan_parts(stats) + category_parts(stats) + channel_parts(stats)
    for chunk in split_html(parts):
        await callback.bot.send_message(callback.from_user.id, chunk)


async def export_command(message: Message, command: CommandObject, session: AsyncSession,
                         actor: Actor, calendar: WorkCalendar, settings: Settings) -> None:
    today = calendar.today()
    args = (command.args or "").split()
    fmt = None
    if args and args[-1].lower() in {f.value for f in ExportFormat}:
        fmt = ExportFormat(args.pop().lower())
    year = parse_year(args[0] if args else None, today)
    if year is None or len(args) > 1:
        await message.answer(_bad_year(today))
        return
    if fmt is None:
        await message.answer(_("Export of the reports received in {year}: which format?").format(year=year),
                             reply_markup=export_keyboard(year))
        return
    await _send_export(message.chat.id, message.bot, session, year, fmt, actor, calendar, settings)


async def export_picked(callback: CallbackQuery, callback_data: ExportCb, session: AsyncSession,
                        actor: Actor, calendar: WorkCalendar, settings: Settings) -> None:
    # A forged year outside what /ekspor offers would not even make a valid date range.
    if parse_year(str(callback_data.year), calendar.today()) is None:
        await callback.answer(_bad_year(calendar.today()), show_alert=True)
        return
    await _send_export(callback.from_user.id, callback.bot, session, callback_data.year,
                       callback_data.fmt, actor, calendar, settings)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


async def _send_export(chat_id: int, bot, session: AsyncSession, year: int, fmt: ExportFormat,
                       actor: Actor, calendar: WorkCalendar, settings: Settings) -> None:
    # What a bot may upload; read at call time so a test can lower it.
    exported = await export_year(session, year, fmt, calendar, actor=actor, limit=export_files.PART_LIMIT,
                                 read_mb_s=settings.database.export_read_mb_s or None)
    try:
        if exported.too_large:
            await bot.send_message(chat_id, _(
                "The export of {year} is too large to send here even split by month. Export it "
                "on the server instead: <code>lapor-bot export --year {year}</code>").format(year=year))
            return
        if fmt is ExportFormat.LAPOR:
            caption = _("{n} verified reports of {year} in SP4N-LAPOR!'s form, with their titles and "
                        "descriptions (confidential ones too): keep it within the coordinating team.")
        else:
            caption = _("{n} reports received in {year}. Contains reporters' identities (never of "
                        "anonymous reports): keep it within the coordinating team.")
        caption = caption.format(n=number(exported.rows), year=year)
        count = len(exported.parts)
        for i, part in enumerate(exported.parts, start=1):
            text = caption
            if count > 1:
                text += "\n" + _("Part {i} of {count}: months {first}–{last}, {n} reports.").format(
                    i=i, count=count, first=part.months[0], last=part.months[1], n=number(part.rows))
            await bot.send_document(chat_id, FSInputFile(part.path, part.filename), caption=text)
    finally:
        exported.cleanup()


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(PRIVATE_CHAT)
    r.message.register(statistics, Command("statistik"))
    r.message.register(export_command, Command("ekspor"))
    r.callback_query.register(statistics_per_agency, StatsAgenciesCb.filter())
    r.callback_query.register(export_picked, ExportCb.filter())
    return r
