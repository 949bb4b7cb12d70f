"""Options of the demo campaign (``desctom up --demo``); no Django here (the stack runs without it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DemoOptions:
    """How ``up --demo`` builds and runs its campaign."""

    objects: int = 3000
    seed: int = 42
    snana: list[str] = field(default_factory=list)
    night_seconds: float = 20.0

    def service_argv(self) -> list[str]:
        """Arguments of ``desctom run_demo`` for these options."""
        args = ["run_demo", "--objects", str(self.objects), "--seed", str(self.seed),
                "--night-seconds", f"{self.night_seconds:g}"]
        return args + (["--snana", *self.snana] if self.snana else [])

    def argv(self) -> list[str]:
        """The ``up`` options that reproduce these (for a detached start)."""
        args = ["--demo", "--demo-objects", str(self.objects), "--demo-seed", str(self.seed),
                "--night-seconds", f"{self.night_seconds:g}"]
        for path in self.snana:
            args += ["--snana", path]
        return args
