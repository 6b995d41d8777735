"""Casework: what happens to a report after it is filed, split by who acts.

- ``core``: the guarded status change, timeline events, telling people, the case view;
- ``verification``: the coordinating admins (queue, assign, re-route, reject, postpone), and
  the hook that runs when a report is filed;
- ``followup``: the liaison officers (inbox, take, ask, answer, return);
- ``reporter``: the reporter's side (answer a question, rate, comment, dispute, the check-in)
  and the auto-close when they do not reply;
- ``templates``: response templates.

Every use case asks ``bot.domain.access`` whether the actor may act (callback data can be
forged), changes the status with a conditional UPDATE (of two simultaneous presses one wins,
the other is refused with ``Reason.CONFLICT``), writes its messages through the ``Notifier``
port in the same transaction, and commits.
"""
