"""The plugin platform: discovery (stevedore), manifests, states, event dispatch (pluggy) and providers."""

from __future__ import annotations
