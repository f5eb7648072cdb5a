# main.py — start the firmware; a broken import leaves you at the REPL.
# Licence: MIT (this project).
try:
    import firmware.app as app

    app.main()
finally:
    import asyncio

    asyncio.new_event_loop()
