"""All writes to accounts: each validates, writes in one transaction and records the audit."""
