"""Note de vaccination (CI-SIS VAC-NOTE 2023.01) prepared when a vaccination is billed."""

from __future__ import annotations
