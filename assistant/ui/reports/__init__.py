"""Reports to principals in the window: the scheduler that makes each principal's end-of-day report and weekly summary
at their time (``scheduler.py``); the template is set in the principal's dialog (``ui/setup/principal_dialog.py``)."""
