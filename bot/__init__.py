"""The conversation engine: channel-agnostic dialogs, their persisted state, keyword handling.

Public surface (what the web process and ``medremind dev`` call):

* :func:`bot.intake.store_inbound` ``(pool, event, raw_payload) -> UUID | None``: store an inbound
  update before acknowledging it; ``None`` for a duplicate.
* :func:`bot.intake.process_inbound` ``(ctx, inbound_id)``: run the dialog for a stored update
  under the chat's row lock and send the replies.
* :func:`bot.intake.resume_unprocessed` ``(ctx) -> int``: crash recovery (at start-up, then
  every 30 s in a running web process, for updates a minute old).
* :class:`bot.context.BotContext`: pool, senders per channel, settings, clock.
* :mod:`bot.callbacks`: button data for reminder and appointment messages (``d:``/``a:``).

Layout: ``engine`` (precedence: keywords, reminder buttons, commands, steps), ``steps`` (the step
and command registry), ``conversation`` (state, options, replies), ``dialogs/*`` (one module per
feature), ``texts`` (en/es), ``parsing`` (forgiving input parsers), ``keywords`` (STOP/START/HELP),
``delivery`` (replies through the senders), ``charts`` (adherence PNG).
"""
