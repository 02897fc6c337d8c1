//! Derives for drover's module contract.
//!
//! `#[derive(ModuleParams)]` on a module's parameters struct writes its description
//! (`drover_core::params::ParamsSpec`): every key with its aliases, type, choices, whether it is
//! required, and its doc comment — read from the struct itself (field names, `#[serde(...)]`
//! attributes and docs), so the accepted keys can never drift from what deserializes.
//! `#[derive(ParamChoices)]` on an enum of unit variants makes its variant names the choices of
//! any field of that type.
//!
//! Extra facts serde does not know go in `#[param(...)]` on a field — `kind = "path"`,
//! `choices("a", "b")`, `default = "text"`, `local_file = "files"` (the key names a
//! controller-side file searched in that directory kind), `unless = "remote_src"` (a flag that
//! makes it a path on the host), `no_log`, `required` — and in
//! `#[params(...)]` on the struct: `required_one_of("a", "b")`, `mutually_exclusive("a", "b")`,
//! `required_together("a", "b")`, `open` (any further key is accepted, as `set_fact` does).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, Token};

/// Describes a parameters struct: implements `drover_core::params::ModuleParams`.
#[proc_macro_derive(ModuleParams, attributes(param, params))]
pub fn derive_module_params(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand_params(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Makes an enum's variant names (as serde reads them) the choices of fields of its type:
/// implements `drover_core::params::ParamValue`.
#[proc_macro_derive(ParamChoices)]
pub fn derive_param_choices(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand_choices(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// What the serde and param attributes of one field say.
#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    aliases: Vec<String>,
    has_default: bool,
    flatten: bool,
    skip: bool,
    deserialize_with: bool,
    kind: Option<String>,
    choices: Vec<String>,
    default_doc: Option<String>,
    local_file: Option<String>,
    local_unless: Option<String>,
    no_log: bool,
    required: bool,
}

/// Struct-level `#[params(...)]` and `#[serde(rename_all)]`.
#[derive(Default)]
struct StructAttrs {
    required_one_of: Vec<Vec<String>>,
    mutually_exclusive: Vec<Vec<String>>,
    required_together: Vec<Vec<String>>,
    open: bool,
    rename_all: Option<String>,
}

fn string_list(input: ParseStream) -> syn::Result<Vec<String>> {
    let content;
    syn::parenthesized!(content in input);
    let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
    Ok(items.iter().map(LitStr::value).collect())
}

/// Consumes the value of a meta item nobody here needs (`= expr` or `(...)`).
fn skip_meta(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_meta(&inner))?;
    }
    Ok(())
}

fn field_attrs(attrs: &[Attribute]) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in attrs {
        if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("rename") {
                    out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if p.is_ident("alias") {
                    out.aliases.push(meta.value()?.parse::<LitStr>()?.value());
                } else if p.is_ident("default") {
                    out.has_default = true;
                    skip_meta(&meta)?;
                } else if p.is_ident("flatten") {
                    out.flatten = true;
                } else if p.is_ident("skip") || p.is_ident("skip_deserializing") {
                    out.skip = true;
                } else if p.is_ident("deserialize_with") || p.is_ident("with") {
                    out.deserialize_with = true;
                    skip_meta(&meta)?;
                } else {
                    skip_meta(&meta)?;
                }
                Ok(())
            })?;
        } else if attr.path().is_ident("param") {
            attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("kind") {
                    out.kind = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if p.is_ident("choices") {
                    out.choices = string_list(meta.input)?;
                } else if p.is_ident("default") {
                    out.default_doc = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if p.is_ident("local_file") {
                    out.local_file = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if p.is_ident("unless") {
                    out.local_unless = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if p.is_ident("no_log") {
                    out.no_log = true;
                } else if p.is_ident("required") {
                    out.required = true;
                } else {
                    return Err(meta.error(
                        "unknown param option (kind, choices, default, local_file, unless, no_log, required)",
                    ));
                }
                Ok(())
            })?;
        }
    }
    Ok(out)
}

fn struct_attrs(attrs: &[Attribute]) -> syn::Result<StructAttrs> {
    let mut out = StructAttrs::default();
    for attr in attrs {
        if attr.path().is_ident("params") {
            attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("required_one_of") {
                    out.required_one_of.push(string_list(meta.input)?);
                } else if p.is_ident("mutually_exclusive") {
                    out.mutually_exclusive.push(string_list(meta.input)?);
                } else if p.is_ident("required_together") {
                    out.required_together.push(string_list(meta.input)?);
                } else if p.is_ident("open") {
                    out.open = true;
                } else {
                    return Err(meta.error(
                        "unknown params option (required_one_of, mutually_exclusive, required_together, open)",
                    ));
                }
                Ok(())
            })?;
        } else if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    out.rename_all = Some(meta.value()?.parse::<LitStr>()?.value());
                } else {
                    skip_meta(&meta)?;
                }
                Ok(())
            })?;
        }
    }
    Ok(out)
}

/// The doc comment, lines joined with spaces.
fn doc_of(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                lines.push(s.value().trim().to_string());
            }
        }
    }
    lines.join(" ").trim().to_string()
}

/// serde's `rename_all` applied to a Rust identifier.
fn renamed(ident: &str, rule: Option<&str>) -> String {
    let ident = ident.trim_start_matches("r#");
    let snake = || {
        let mut s = String::new();
        for (i, c) in ident.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                s.push('_');
            }
            s.extend(c.to_lowercase());
        }
        s
    };
    match rule {
        Some("lowercase") => ident.to_lowercase(),
        Some("UPPERCASE") => ident.to_uppercase(),
        Some("snake_case") => snake(),
        Some("kebab-case") => snake().replace('_', "-"),
        Some("SCREAMING_SNAKE_CASE") => snake().to_uppercase(),
        _ => ident.to_string(),
    }
}

fn kind_tokens(kind: &str, span: proc_macro2::Span) -> syn::Result<Tokens> {
    let variant = match kind {
        "str" => quote!(Str),
        "bool" => quote!(Bool),
        "int" => quote!(Int),
        "float" => quote!(Float),
        "list" => quote!(List),
        "dict" => quote!(Dict),
        "path" => quote!(Path),
        "mode" => quote!(Mode),
        "raw" => quote!(Raw),
        _ => {
            return Err(syn::Error::new(
                span,
                "kind must be one of str, bool, int, float, list, dict, path, mode, raw",
            ))
        }
    };
    Ok(quote!(::drover_core::params::ParamType::#variant))
}

fn lists(groups: &[Vec<String>]) -> Tokens {
    let items = groups.iter().map(|g| quote!(&[#(#g),*]));
    quote!(&[#(#items),*])
}

fn expand_params(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.span(),
            "ModuleParams is derived for structs",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "ModuleParams is derived for non-generic structs",
        ));
    }
    let sattrs = struct_attrs(&input.attrs)?;
    let mut fields = Vec::new();
    let mut groups = Vec::new();
    if let Fields::Named(named) = &data.fields {
        for field in &named.named {
            let attrs = field_attrs(&field.attrs)?;
            let ty = &field.ty;
            if attrs.skip {
                continue;
            }
            if attrs.flatten {
                groups.push(quote!(<#ty as ::drover_core::params::ModuleParams>::spec));
                continue;
            }
            let ident = field.ident.as_ref().map(ToString::to_string);
            let name = attrs.rename.clone().unwrap_or_else(|| {
                renamed(&ident.unwrap_or_default(), sattrs.rename_all.as_deref())
            });
            let aliases = &attrs.aliases;
            let value = quote!(<#ty as ::drover_core::params::ParamValue>);
            let kind = match &attrs.kind {
                Some(k) => kind_tokens(k, field.span())?,
                None => quote!(#value::KIND),
            };
            let choices = if attrs.choices.is_empty() {
                quote!(#value::CHOICES)
            } else {
                let c = &attrs.choices;
                quote!(&[#(#c),*])
            };
            // serde lets an `Option` field without `deserialize_with` be absent.
            let required = if attrs.required {
                quote!(true)
            } else if attrs.has_default {
                quote!(false)
            } else if attrs.deserialize_with {
                quote!(true)
            } else {
                quote!(!#value::OPTIONAL)
            };
            let default = match &attrs.default_doc {
                Some(d) => quote!(Some(#d)),
                None => quote!(None),
            };
            let local_file = match &attrs.local_file {
                Some(d) => quote!(Some(#d)),
                None => quote!(None),
            };
            let local_unless = match &attrs.local_unless {
                Some(d) => quote!(Some(#d)),
                None => quote!(None),
            };
            let doc = doc_of(&field.attrs);
            let no_log = attrs.no_log;
            fields.push(quote! {
                ::drover_core::params::FieldSpec {
                    name: #name,
                    aliases: &[#(#aliases),*],
                    kind: #kind,
                    choices: #choices,
                    required: #required,
                    default: #default,
                    description: #doc,
                    local_file: #local_file,
                    local_unless: #local_unless,
                    no_log: #no_log,
                }
            });
        }
    } else {
        return Err(syn::Error::new(
            input.span(),
            "ModuleParams needs named fields",
        ));
    }
    let ident = &input.ident;
    let doc = doc_of(&input.attrs);
    let one_of = lists(&sattrs.required_one_of);
    let exclusive = lists(&sattrs.mutually_exclusive);
    let together = lists(&sattrs.required_together);
    let open = sattrs.open;
    Ok(quote! {
        impl ::drover_core::params::ModuleParams for #ident {
            fn spec() -> &'static ::drover_core::params::ParamsSpec {
                static SPEC: ::drover_core::params::ParamsSpec = ::drover_core::params::ParamsSpec {
                    doc: #doc,
                    fields: &[#(#fields),*],
                    groups: &[#(#groups),*],
                    required_one_of: #one_of,
                    mutually_exclusive: #exclusive,
                    required_together: #together,
                    open: #open,
                };
                &SPEC
            }
        }
    })
}

fn expand_choices(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.span(),
            "ParamChoices is derived for enums",
        ));
    };
    let rule = struct_attrs(&input.attrs)?.rename_all;
    let mut names = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new(
                variant.span(),
                "ParamChoices needs unit variants",
            ));
        }
        let attrs = field_attrs(&variant.attrs)?;
        if attrs.skip {
            continue;
        }
        names.push(
            attrs
                .rename
                .unwrap_or_else(|| renamed(&variant.ident.to_string(), rule.as_deref())),
        );
        names.extend(attrs.aliases);
    }
    let ident = &input.ident;
    Ok(quote! {
        impl ::drover_core::params::ParamValue for #ident {
            const KIND: ::drover_core::params::ParamType = ::drover_core::params::ParamType::Str;
            const CHOICES: &'static [&'static str] = &[#(#names),*];
        }
    })
}
