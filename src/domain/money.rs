//! Money is integer fen; yuan exist only for people to read.

/// The largest amount anything may be: 10 trillion yuan. Far above any budget, and far enough below
/// `i64::MAX` that sums of amounts never overflow in SQL.
pub const MAX_FEN: i64 = 1_000_000_000_000_000;

/// `1234567` fen → `12,345.67`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_read_as_yuan_with_thousands_separated() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(1_234_567), "12,345.67");
        assert_eq!(yuan(500_000_000_000), "5,000,000,000.00");
        assert_eq!(yuan(-150), "-1.50");
    }
}
