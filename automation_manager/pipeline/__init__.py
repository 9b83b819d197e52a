"""The content pipeline (``content_creation`` type ``pipeline``): keywords → clusters →
ideas → tasks → articles → image prompts → images → review.

Items and run counts live in the state database (:mod:`.store`); :mod:`.runner` drives
one run through :mod:`.stages`; :mod:`.query` is the read API the CLI and the dashboard
share (:func:`~.query.pipeline_status`, :func:`~.query.list_stage_items`,
:func:`~.query.run_detail`). Nothing heavy is imported here.
"""

from __future__ import annotations
