//! Resource addresses as text: `stack.kind.name`, `stack.kind.name["key"]`,
//! `stack.module.net["a"].kind.name[0]`. Shared by `state mv` and `[[moved]]` entries, which both need to
//! know what an address names (a stack, a module instance, or a resource of some kind) and which
//! addresses lie under it.

/// What an address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A whole stack (`network`).
    Stack,
    /// A module call or one of its instances (`network.module.net`, `network.module.net["a"]`).
    Module,
    /// A resource (or one instance of it) of this kind.
    Resource(String),
}

impl Shape {
    /// For messages: "a module instance", "a vpc".
    pub fn describe(&self) -> String {
        match self {
            Shape::Stack => "a stack".into(),
            Shape::Module => "a module instance".into(),
            Shape::Resource(kind) => format!("a resource of kind `{kind}`"),
        }
    }
}

/// Splits an address at the dots outside `[...]` (a `for_each` key may hold dots).
fn segments(address: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut start, mut depth, mut quoted, mut escaped) = (0, 0i32, false, false);
    for (i, c) in address.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                out.push(&address[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    if quoted || depth != 0 {
        return None;
    }
    out.push(&address[start..]);
    Some(out)
}

/// A segment's name and whether it carries an index (`net["a"]` -> `("net", true)`).
fn name_of(segment: &str) -> Option<(&str, bool)> {
    let (name, indexed) = match segment.find('[') {
        Some(i) => {
            let index = &segment[i..];
            let ok = index.ends_with(']')
                && (index[1..index.len() - 1].parse::<u64>().is_ok()
                    || (index.len() >= 4 && index[1..].starts_with('"') && index.ends_with("\"]")));
            if !ok {
                return None;
            }
            (&segment[..i], true)
        }
        None => (segment, false),
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then_some((name, indexed))
}

/// What a stack-relative address (`vpc.main`, `module.net["a"]`, `module.net["a"].subnet.x[0]`) names,
/// or why it is not an address. Kinds are checked against the registry.
pub fn shape_relative(address: &str) -> Result<Shape, String> {
    let bad = || {
        format!(
            "`{address}` is not an address: write `KIND.NAME`, `KIND.NAME[\"KEY\"]`, `module.NAME` or `module.NAME[\"KEY\"]`, joined by dots"
        )
    };
    let segs = segments(address).ok_or_else(bad)?;
    let mut names = Vec::new();
    for s in &segs {
        names.push(name_of(s).ok_or_else(bad)?);
    }
    let mut i = 0;
    while i < names.len() {
        let (first, first_indexed) = names[i];
        let Some(&(_, _)) = names.get(i + 1) else {
            return Err(bad());
        };
        if first_indexed {
            return Err(bad());
        }
        if first == "module" {
            i += 2;
            if i == names.len() {
                return Ok(Shape::Module);
            }
            continue;
        }
        if crate::schema::kind(first).is_none() {
            return Err(format!(
                "`{address}`: `{first}` is not a resource kind (run `landfall kinds` to list them)"
            ));
        }
        if i + 2 != names.len() {
            return Err(bad());
        }
        return Ok(Shape::Resource(first.to_string()));
    }
    Err(bad())
}

/// What a full address (`stack.` first) names.
pub fn shape(address: &str) -> Result<Shape, String> {
    let (stack, rest) = match address.find('.') {
        Some(i) => (&address[..i], Some(&address[i + 1..])),
        None => (address, None),
    };
    if name_of(stack).is_none_or(|(_, indexed)| indexed) {
        return Err(format!(
            "`{address}` is not an address: addresses start with their stack's name"
        ));
    }
    match rest {
        None => Ok(Shape::Stack),
        Some(rest) => shape_relative(rest),
    }
}

/// The stack an address belongs to: its first segment.
pub fn stack_of(address: &str) -> &str {
    address.split('.').next().unwrap_or(address)
}

/// True when `address` is `pattern` or inside it (`stack.module.m` covers `stack.module.m["k"].vpc.x`,
/// `stack.vpc.main` covers `stack.vpc.main[0]`).
pub fn covers(pattern: &str, address: &str) -> bool {
    address == pattern
        || address
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// `address` moved from under `from` to under `to`; `None` when `from` does not cover it.
pub fn rebase(address: &str, from: &str, to: &str) -> Option<String> {
    covers(from, address).then(|| format!("{to}{}", &address[from.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_resources_modules_and_stacks() {
        assert_eq!(shape("net.vpc.main"), Ok(Shape::Resource("vpc".into())));
        assert_eq!(
            shape("net.subnet.a[\"x.y\"]"),
            Ok(Shape::Resource("subnet".into()))
        );
        assert_eq!(shape("net.module.m"), Ok(Shape::Module));
        assert_eq!(shape("net.module.m[\"a\"]"), Ok(Shape::Module));
        assert_eq!(
            shape("net.module.m[\"a\"].module.n[0].vpc.v[2]"),
            Ok(Shape::Resource("vpc".into()))
        );
        assert_eq!(shape("net"), Ok(Shape::Stack));
        assert_eq!(
            shape_relative("vpc.main"),
            Ok(Shape::Resource("vpc".into()))
        );
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_reason() {
        for bad in [
            "net.vpc",
            "net.vpc.main.x",
            "net.module",
            "net.vpc.main[",
            "net.vpc.main[x]",
            "net.module.m[\"a\"",
            "net..vpc",
            "net.vpc[0].main",
        ] {
            assert!(shape(bad).is_err(), "{bad} should be refused");
        }
        let e = shape("net.vcp.main").unwrap_err();
        assert!(e.contains("`vcp` is not a resource kind"), "{e}");
    }

    #[test]
    fn rebase_keeps_what_follows_the_prefix() {
        let from = "net.module.m[\"a\"]";
        let to = "net.module.m[\"b\"]";
        assert_eq!(
            rebase("net.module.m[\"a\"].vpc.v", from, to).as_deref(),
            Some("net.module.m[\"b\"].vpc.v")
        );
        assert_eq!(rebase("net.module.m[\"ab\"].vpc.v", from, to), None);
        assert_eq!(
            rebase("net.vpc.main[0]", "net.vpc.main", "net.vpc.x").as_deref(),
            Some("net.vpc.x[0]")
        );
        assert_eq!(rebase("net.vpc.mainly", "net.vpc.main", "net.vpc.x"), None);
    }
}
