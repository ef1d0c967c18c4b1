"""incentives (政策计算器): which government incentives a Chinese enterprise qualifies for, how much, and why."""

__version__ = "0.1.0"
