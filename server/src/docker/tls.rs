//! Mutual TLS to a daemon (`dockerd --tlsverify`): the client config built from PEM text,
//! and errors that say which certificate failed.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client config trusting only `ca` (no system roots: a daemon's CA is private) and
/// presenting `cert` with `key`. `skip_verify` accepts any daemon certificate (unsafe).
pub fn client_config(
    ca: &str,
    cert: &str,
    key: &str,
    skip_verify: bool,
) -> Result<rustls::ClientConfig, String> {
    let certs = |pem: &str, what: &str| -> Result<Vec<CertificateDer<'static>>, String> {
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{what}: not PEM certificates ({e})"))?;
        if certs.is_empty() {
            return Err(format!("{what}: no PEM certificate found"));
        }
        Ok(certs)
    };
    let chain = certs(cert, "tls.cert")?;
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
        .map_err(|e| format!("tls.key: not a PEM private key ({e})"))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider())))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for c in certs(ca, "tls.ca")? {
            roots
                .add(c)
                .map_err(|e| format!("tls.ca: not a usable CA certificate ({e})"))?;
        }
        builder.with_root_certificates(roots)
    };
    builder
        .with_client_auth_cert(chain, key)
        .map_err(|e| format!("tls.cert and tls.key do not go together ({e})"))
}

/// The name the daemon's certificate must carry: the URL's host (an IP address or a DNS name).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_owned()).map_err(|_| format!("{host:?} is not a host name"))
}

/// `skip_verify`: accepts any certificate the daemon shows, still checking that the
/// handshake is signed by it (so the connection is encrypted, just not authenticated).
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The rustls error somewhere in `e`'s causes, said as which certificate failed.
pub fn explain(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(say(tls));
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(say(tls));
            }
        }
        cur = err.source();
    }
    None
}

/// An I/O error from the TLS handshake, explained.
pub fn explain_io(e: &std::io::Error) -> String {
    explain(e).unwrap_or_else(|| format!("TLS handshake failed: {e}"))
}

fn say(e: &rustls::Error) -> String {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(c) => {
            let what = match c {
                CertificateError::UnknownIssuer => {
                    "is not signed by the CA given (unknown issuer): is tls.ca the daemon's --tlscacert?"
                        .to_owned()
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "has expired".to_owned()
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "is not valid yet".to_owned()
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    "is not made out to this host name or address (check its subjectAltName)"
                        .to_owned()
                }
                CertificateError::BadSignature => "has a bad signature".to_owned(),
                other => format!("was refused ({other:?})"),
            };
            format!("TLS: the daemon's certificate {what}")
        }
        rustls::Error::AlertReceived(alert) => {
            let why = match alert {
                A::BadCertificate | A::UnknownCA | A::CertificateUnknown => {
                    "is not signed by the daemon's --tlscacert".to_owned()
                }
                A::CertificateExpired => "has expired".to_owned(),
                A::CertificateRequired => "is missing".to_owned(),
                other => format!("was refused ({other:?})"),
            };
            format!("TLS: the daemon refused berth's client certificate: it {why}")
        }
        other => format!("TLS: {other}"),
    }
}
