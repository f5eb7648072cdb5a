# main.py — start the firmware; a broken import leaves you at the REPL.
# Licence: MIT (this project).
# firmware.app.main(): reset cause and boot log, safe-mode decision, watchdog, then the
# supervised tasks. Ctrl-C on the console ends it and gives the REPL (the watchdog, if
# running, still resets the board within its period: hold the safe-mode pin for a REPL
# session).
try:
    import firmware.app as app

    app.main()
finally:
    import asyncio

    asyncio.new_event_loop()
