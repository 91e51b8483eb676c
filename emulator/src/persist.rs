//! The optional state file: the whole vault as JSON, written atomically (temp file + rename).

use std::io::Write;
use std::path::Path;

use crate::store::Vault;

/// Reads a state file; a missing file is an empty vault.
pub fn load(path: &Path) -> std::io::Result<Vault> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vault::default()),
        Err(e) => Err(e),
    }
}

/// Writes a state file atomically.
pub fn save(path: &Path, vault: &Vault) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(vault).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_missing() {
        let dir = std::env::temp_dir().join(format!("kvcerts-persist-{}", crate::ids::new_version()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert!(load(&path).unwrap().certs.is_empty());
        let v = Vault { contacts: Some(vec![]), ..Default::default() };
        save(&path, &v).unwrap();
        assert_eq!(load(&path).unwrap().contacts, Some(vec![]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
