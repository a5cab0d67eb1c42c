import Foundation

/// A self-signed P-256 certificate for `localhost` and `127.0.0.1`, valid until 2126, made for
/// these tests with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
/// -days 36500 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"`.
/// It protects nothing: the key is public on purpose.
enum TestTLSCertificate {
    static let certificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIBmjCCAUGgAwIBAgIUTO0ctGjV/I1GT/VghooBeM0NMrYwCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyOTIyMzczNFoYDzIxMjYxMTA1
        MjIzNzM0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
        PQMBBwNCAAS+Zmnu+KVpgSNIM/n12QQ+HVnhQx89EX3uAuof4iBO3JDe2XYiI7Iu
        yyY8AgVc6Y4sFo2InftvQXhMouMW53lBo28wbTAdBgNVHQ4EFgQULgwTHXE831K6
        H994TnZ7urgmAVUwHwYDVR0jBBgwFoAULgwTHXE831K6H994TnZ7urgmAVUwDwYD
        VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
        zj0EAwIDRwAwRAIgJ2ek8xG5mg1ODi7wXD7sjIb1pAbAAFw73eKRsA1OHsYCICHJ
        NDpR9bnR6wiZkfUL66QtUFXYdbvE7lGcqJbFeCSp
        -----END CERTIFICATE-----
        """

    static let privateKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgD14/KRCio2fkX47/
        /pi8xVdr+yVVRzD5DoIGaLHCq9OhRANCAAS+Zmnu+KVpgSNIM/n12QQ+HVnhQx89
        EX3uAuof4iBO3JDe2XYiI7IuyyY8AgVc6Y4sFo2InftvQXhMouMW53lB
        -----END PRIVATE KEY-----
        """

    /// Writes both PEM files into a new temporary directory; returns their paths.
    static func writeFiles() throws -> (certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("icws-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        try privateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
        return (certificate, key)
    }
}
