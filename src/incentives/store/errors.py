"""Store errors, each with a Chinese and an English message (shown to people as is)."""

from __future__ import annotations


class StoreError(Exception):
    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en

    def line(self) -> str:
        return f"{self.zh} / {self.en}"


class NotFound(StoreError):
    """Missing, or owned by another account: the two answer alike so ids leak nothing."""

    def __init__(self, what: str = "record"):
        super().__init__(f"找不到该{_WHAT_ZH.get(what, '记录')}", f"{what} not found")
        self.what = what


class LoginThrottled(StoreError):
    def __init__(self, retry_after_seconds: int):
        super().__init__(f"登录失败次数过多，请 {retry_after_seconds} 秒后再试",
                         f"too many failed sign-ins; try again in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class JobLeaseLost(StoreError):
    """The job was failed (or taken over) while this worker still ran it: the worker must stop writing."""

    def __init__(self, job_id: int):
        super().__init__(f"任务 {job_id} 已不属于本进程", f"job {job_id} is no longer held by this worker")


_WHAT_ZH = {"client": "客户", "run": "评估记录", "job": "任务", "award": "资助记录", "token": "令牌",
            "account": "账户", "version": "版本"}
