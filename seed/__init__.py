"""The demo and benchmark data sets, installed as the package ``forum_seed``.

The JSON files and the evidence files in this folder are the data; the modules beside them load
it into a forum database through the forum's own services (``demo``, with one ``demo_<area>``
module per area) or write a large data set in bulk for the load benchmark (``scale``). They are
not part of the runtime package ``forum``: the ``forum demo`` and ``forum seed`` commands import
them only when they run. See README.md here for the schema of each file.
"""

from __future__ import annotations

from pathlib import Path

#: The folder that holds the data files (the checkout's seed/, or the installed package).
DATA = Path(__file__).resolve().parent
