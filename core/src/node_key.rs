//! The node's signing key: one Ed25519 key in the data directory (PKCS#8 PEM, mode 0600), that
//! signs its access tokens, federation calls, manifests and audit heads. Its private half never
//! leaves the file and is never logged.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::CoreError;
use crate::secrets;

pub const KEY_FILE: &str = "node-signing-key.pem";

/// The node's Ed25519 key. Its private half never leaves the data directory file (mode 0600)
/// and is never logged; `Debug` shows only the key id.
pub struct NodeKey {
    signing: SigningKey,
    kid: String,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl NodeKey {
    pub fn from_signing_key(signing: SigningKey) -> Self {
        let digest = Sha256::digest(signing.verifying_key().as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..12]);
        Self { signing, kid }
    }

    pub fn generate() -> Result<Self, CoreError> {
        Ok(Self::from_signing_key(SigningKey::from_bytes(
            &secrets::random_bytes::<32>()?,
        )))
    }

    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join(KEY_FILE)
    }

    /// Loads the key from the data directory, creating it (0600) on first start.
    /// Returns whether it was created.
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, bool), CoreError> {
        let path = Self::path_in(data_dir);
        match fs::read_to_string(&path) {
            Ok(pem) => {
                let signing = SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
                    CoreError::internal(format!(
                        "{} is not a PKCS#8 Ed25519 key: {e}",
                        path.display()
                    ))
                })?;
                Ok((Self::from_signing_key(signing), false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate()?;
                key.write_new(&path)?;
                Ok((key, true))
            }
            Err(e) => Err(CoreError::internal(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    /// The private key as PKCS#8 PEM, for the key file only.
    pub(crate) fn private_pem(&self) -> Result<String, CoreError> {
        Ok(self
            .signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| CoreError::internal(format!("encoding key: {e}")))?
            .to_string())
    }

    fn write_new(&self, path: &Path) -> Result<(), CoreError> {
        let pem = self.private_pem()?;
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .map_err(|e| CoreError::internal(format!("cannot create {}: {e}", path.display())))?;
        file.write_all(pem.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| CoreError::internal(format!("cannot write {}: {e}", path.display())))
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The public half as a JWK (RFC 8037).
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public_key_bytes()),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    /// Signs `claims` as an EdDSA JWT with this key's `kid` and the given `typ` (node-to-node
    /// calls use their own `typ`, so a call token can never pass as an access token).
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, CoreError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding_key()?)
            .map_err(|e| CoreError::internal(format!("signing: {e}")))
    }

    pub(crate) fn encoding_key(&self) -> Result<EncodingKey, CoreError> {
        let der = self
            .signing
            .to_pkcs8_der()
            .map_err(|e| CoreError::internal(format!("encoding key: {e}")))?;
        Ok(EncodingKey::from_ed_der(der.as_bytes()))
    }
}
