//! Helpers shared by the end-to-end tests of the `twin` binary.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run `twin` from the package root with extra environment variables.
pub fn twin_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twin"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run twin")
}

pub fn twin(args: &[&str]) -> Output {
    twin_env(args, &[])
}

/// Run `twin`, which must succeed; its standard output.
pub fn ok_env(args: &[&str], env: &[(&str, &str)]) -> String {
    let o = twin_env(args, env);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "twin {args:?} failed:\n{out}\n{err}");
    out.into_owned()
}

pub fn ok(args: &[&str]) -> String {
    ok_env(args, &[])
}

/// A bad input must fail with exit code 1 and an `error:` line naming the file, never a panic.
pub fn fails_cleanly(args: &[&str], must_mention: &[&str]) -> String {
    let o = twin(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(1),
        "twin {args:?} should fail with 1:\n{err}"
    );
    assert!(!err.contains("panicked"), "twin {args:?} panicked:\n{err}");
    assert!(err.starts_with("error:"), "{err}");
    for m in must_mention {
        assert!(
            err.contains(m),
            "twin {args:?}: error should mention `{m}`:\n{err}"
        );
    }
    err
}

/// A file of the shared open data.
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel)
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// The files `names` are byte for byte the same in folders `a` and `b`.
pub fn assert_same_files(a: &Path, b: &Path, names: &[&str], what: &str) {
    for f in names {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs{what}"
        );
    }
}
