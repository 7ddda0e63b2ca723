DROP TABLE account_tokens;
DROP TABLE recovery_codes;
DROP TABLE two_factor;
DROP TABLE web_sessions;
