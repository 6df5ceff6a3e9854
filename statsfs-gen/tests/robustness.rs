//! Random bytes and random mutations of the real schemas never panic the checker: the
//! answer is always a schema or errors whose locations lie inside the file, and rendering
//! and generating from whatever checks clean never panic either.

use proptest::prelude::*;

const KVM: &str = include_str!("../../schemas/kvm.toml");
const NET: &str = include_str!("../../schemas/net.toml");
const VMM: &str = include_str!("../../schemas/vmm.toml");

fn outcome(text: &str) -> Result<(), TestCaseError> {
    match statsfs_gen::parse("fuzz.toml", text) {
        Ok(schema) => {
            statsfs_gen::rust::generate(&schema, "fuzz.toml").map_err(TestCaseError::fail)?;
            statsfs_gen::rst::generate(&schema, "fuzz.toml").map_err(TestCaseError::fail)?;
        }
        Err(e) => {
            prop_assert!(!e.diagnostics.is_empty());
            for d in &e.diagnostics {
                prop_assert!(
                    d.span.start <= d.span.end && d.span.end <= text.len(),
                    "{:?} in {} bytes",
                    d.span,
                    text.len()
                );
            }
            let rendered = e.render();
            prop_assert!(rendered.contains("fuzz.toml:"), "{}", rendered);
        }
    }
    Ok(())
}

/// A mutation: replace a byte range of a real schema with random text.
fn mutated() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![KVM, NET, VMM]),
        any::<prop::sample::Index>(),
        0usize..40,
        "[ -~\n]{0,12}",
    )
        .prop_map(|(base, at, len, insert)| {
            let bytes = base.as_bytes();
            let start = at.index(bytes.len());
            let end = (start + len).min(bytes.len());
            let mut v = bytes[..start].to_vec();
            v.extend_from_slice(insert.as_bytes());
            v.extend_from_slice(&bytes[end..]);
            String::from_utf8_lossy(&v).into_owned()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        outcome(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn mutated_schemas_never_panic(text in mutated()) {
        outcome(&text)?;
    }

    #[test]
    fn tomlish_text_never_panics(text in "(\\[\\[sets(\\.values)?\\]\\]\n|[a-z_]{1,10} = (\"[a-z0-9_ ]{0,8}\"|-?[0-9]{1,6}|true|\\{ ?[0-9a-z]{0,3} = \"x\" ?\\})\n){0,20}") {
        outcome(&text)?;
    }
}
