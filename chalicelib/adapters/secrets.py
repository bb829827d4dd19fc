"""AI provider API keys (and, with another prefix, webhook signing secrets) in AWS Secrets Manager: `{prefix}{config_id}`, and `{prefix}{config_id}-{n}`
for each key a change sets (the config points at the new one only when the change commits).

Postgres keeps only the returned ref (the secret's name) and the key's last characters.
Removing a key schedules the secret for deletion (7-day recovery window, unreadable meanwhile);
putting a key again restores and overwrites it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

RECOVERY_DAYS = 7


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class SecretsManagerStore:
    def __init__(
        self, client: Any, prefix: str, description: str = "sitegen AI provider API key (managed by sitegen)"
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._description = description

    def ref_for(self, config_id: str) -> str:
        return f"{self._prefix}{config_id}"

    def put(self, name: str, api_key: str) -> str:
        """Create or overwrite the secret `{prefix}{name}` (restoring it if it was scheduled for deletion)."""
        ref = self.ref_for(name)
        try:
            info = self._client.describe_secret(SecretId=ref)
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            try:
                self._client.create_secret(Name=ref, SecretString=api_key, Description=self._description)
                return ref
            except ClientError as again:  # created meanwhile by a concurrent request: overwrite it
                if _code(again) != "ResourceExistsException":
                    raise
                info = {}
        if info.get("DeletedDate"):
            self._client.restore_secret(SecretId=ref)
        self._client.put_secret_value(SecretId=ref, SecretString=api_key)
        return ref

    def get(self, ref: str) -> str:
        """The key; KeyError if the secret does not exist or is scheduled for deletion."""
        try:
            value = self._client.get_secret_value(SecretId=ref).get("SecretString")
        except ClientError as exc:
            if _code(exc) in ("ResourceNotFoundException", "InvalidRequestException"):
                raise KeyError(f"secret {ref!r} not found") from None
            raise
        if not value:
            raise KeyError(f"secret {ref!r} has no value")
        return str(value)

    def delete(self, ref: str) -> None:
        try:
            self._client.delete_secret(SecretId=ref, RecoveryWindowInDays=RECOVERY_DAYS)
        except ClientError as exc:
            if _code(exc) not in ("ResourceNotFoundException", "InvalidRequestException"):
                raise
