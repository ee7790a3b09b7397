//! The option table's index: every row of [`super::rows`] sorted by name,
//! for the longest-prefix lookup of an argument and the lookup by name.

use super::Row;
use super::rows::GROUPS;

/// How many rows the groups hold.
const COUNT: usize = {
    let mut n = 0;
    let mut g = 0;
    while g < GROUPS.len() {
        n += GROUPS[g].len();
        g += 1;
    }
    n
};

/// `a < b` by bytes, in a constant context (`Ord` is not `const`).
const fn less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// The rows sorted by name, at compile time: sorting them at every start
/// cost each `distcc` process about 0.25 M instructions (8 % of a pump
/// job's client, callgrind), for a table that never changes.
static SORTED: [Row; COUNT] = {
    let mut out = [GROUPS[0][0]; COUNT];
    let mut n = 0;
    let mut g = 0;
    while g < GROUPS.len() {
        let mut r = 0;
        while r < GROUPS[g].len() {
            // Insertion sort: a few hundred rows, once, in the compiler.
            let row = GROUPS[g][r];
            let mut i = n;
            while i > 0 && less(row.name, out[i - 1].name) {
                out[i] = out[i - 1];
                i -= 1;
            }
            out[i] = row;
            n += 1;
            r += 1;
        }
        g += 1;
    }
    out
};

/// The rows sorted by name.
pub(super) fn sorted() -> &'static [Row] {
    &SORTED
}

/// The rows whose name is a prefix of `arg`, longest first.
///
/// Every such row sorts at or before `arg`, and a longer prefix sorts after
/// a shorter one, so walking back from the last row `<= arg` meets them
/// longest first; once the first two bytes differ no earlier row can match.
pub fn candidates(arg: &[u8]) -> impl Iterator<Item = &'static Row> + '_ {
    let rows = sorted();
    let end = rows.partition_point(|r| r.name.as_bytes() <= arg);
    let head = arg.get(..2).unwrap_or(arg);
    rows[..end]
        .iter()
        .rev()
        .take_while(move |r| &r.name.as_bytes()[..2] >= head)
        .filter(move |r| arg.starts_with(r.name.as_bytes()))
}

/// The row named exactly `name`, if any.
pub fn named(name: &[u8]) -> Option<&'static Row> {
    let rows = sorted();
    rows.binary_search_by(|r| r.name.as_bytes().cmp(name))
        .ok()
        .map(|i| &rows[i])
}
