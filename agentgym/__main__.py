from __future__ import annotations

import sys

from agentgym.cli import main

sys.exit(main())
