import os
import sys

if getattr(sys, "frozen", False):  # the standalone bundle (`./dev package`)
    import multiprocessing  # only here: a command run as `python -m assistant` should not pay for it

    # its parsing workers start this same executable: let them be workers, not a second app
    multiprocessing.freeze_support()
    # started with an empty environment (a login item, a launcher): Qt wants a UTF-8 locale and says so otherwise
    if not any(os.environ.get(name) for name in ("LC_ALL", "LC_CTYPE", "LANG")):
        os.environ["LC_CTYPE"] = "C.UTF-8"

from assistant.cli.main import main  # noqa: E402

sys.exit(main())
