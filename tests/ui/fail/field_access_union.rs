// `field_access!` reads the field outside any `unsafe` block, so a union field, which needs
// `unsafe` to read, cannot be used to build a field accessor without writing `unsafe`.
union U {
    small: u8,
    big: u64,
}

fn main() {
    let _ = statsfs::field_access!(U, big);
    let _ = U { small: 1 };
}
