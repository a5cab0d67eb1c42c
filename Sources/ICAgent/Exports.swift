// Identities, envelopes and certificates are part of the agent's API (every call takes an
// identity and returns verified certificates), so `import ICAgent` brings them in.
@_exported import ICCertification
