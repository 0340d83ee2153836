//! The operator documentation names every drop reason the dataplane can count.

#[test]
fn readme_lists_every_drop_reason() {
    let readme = include_str!("../../README.md");
    let missing: Vec<&str> = dataplane::DropReason::ALL
        .iter()
        .map(|r| r.label())
        .filter(|label| !readme.contains(&format!("`{label}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "README's drop-reason table lacks {missing:?}"
    );
}
