//! The macro's arguments: a path literal and `key = value` options.

use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitBool, LitStr, Token};

/// `"dir" [, allow_multiple_heads = true]`
pub(crate) struct Input {
    pub path: LitStr,
    pub allow_multiple_heads: bool,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: LitStr = input.parse()?;
        let mut allow_multiple_heads = false;
        while input.parse::<Option<Token![,]>>()?.is_some() {
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "allow_multiple_heads" => allow_multiple_heads = input.parse::<LitBool>()?.value,
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{other}`; the only option is `allow_multiple_heads = true`"),
                    ));
                }
            }
        }
        if !input.is_empty() {
            return Err(input.error("expected `, allow_multiple_heads = true` or the end of the arguments"));
        }
        Ok(Input {
            path,
            allow_multiple_heads,
        })
    }
}
