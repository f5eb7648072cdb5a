# main.py — start the firmware; a broken import leaves you at the REPL.
# Licence: MIT (this project).
# firmware.app.main(): reset cause and boot log, safe-mode decision, watchdog, then the
# supervised tasks. Ctrl-C on the console ends it and gives the REPL (a timer then feeds
# the watchdog until the next reset: D53 in firmware/app.py; the safe-mode pin held at
# reset starts without any task).
try:
    import firmware.app as app

    app.main()
finally:
    import asyncio

    asyncio.new_event_loop()
