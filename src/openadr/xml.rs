//! A small namespace-aware XML tree over quick-xml, and inclusive C14N 1.0
//! (the only canonicalisation OpenADR 2.0b signatures use).
//!
//! The tree keeps each element's own namespace declarations and attribute
//! prefixes, because C14N must render them exactly as the signer saw them.
//! Parsing refuses DOCTYPEs (so no DTD, no external or custom entity can ever
//! be expanded) and inputs larger than [`MAX_INPUT`].

use crate::core::{Error, ErrorCode, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Largest message we read. OpenADR messages are a few KB; a VTN sending more
/// than this is broken or hostile.
pub const MAX_INPUT: usize = 1 << 20;
/// Deeper nesting than any OpenADR message has: bounds recursion.
const MAX_DEPTH: usize = 64;

pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub prefix: Option<String>,
    pub local: String,
    /// Resolved namespace (unprefixed attributes have none).
    pub ns: Option<String>,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub prefix: Option<String>,
    pub local: String,
    pub ns: Option<String>,
    /// The declarations written on this element: (prefix or "" for default, uri).
    pub ns_decls: Vec<(String, String)>,
    pub attrs: Vec<Attribute>,
    pub children: Vec<Node>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::BadResponse, message.into()).provider("openadr")
}

impl Element {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// The first child element with this local name (namespaces are checked
    /// on the message root; inside it OpenADR's names do not collide).
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.local == local)
    }

    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.local == local)
    }

    /// Follow a path of local names.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |element, name| element.child(name))
    }

    /// The concatenated text content, trimmed.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.collect_text(&mut out);
        out.trim().to_owned()
    }

    fn collect_text(&self, out: &mut String) {
        for node in &self.children {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Element(element) => element.collect_text(out),
            }
        }
    }

    pub fn text_at(&self, names: &[&str]) -> Option<String> {
        self.path(names).map(Element::text)
    }

    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.local == local).map(|a| a.value.as_str())
    }

    /// Depth-first search, with the chain of ancestors (outermost first) that
    /// C14N needs for the namespaces in scope.
    pub fn find<'a>(&'a self, matches: &dyn Fn(&Element) -> bool) -> Option<(Vec<&'a Element>, &'a Element)> {
        if matches(self) {
            return Some((Vec::new(), self));
        }
        for child in self.elements() {
            if let Some((mut ancestors, found)) = child.find(matches) {
                ancestors.insert(0, self);
                return Some((ancestors, found));
            }
        }
        None
    }

    /// Every element carrying an `Id`-like attribute with this value (XML-DSig
    /// same-document references; signxml accepts Id, ID and id in any namespace).
    pub fn count_ids(&self, id: &str) -> usize {
        let own = self.attrs.iter().any(|a| matches!(a.local.as_str(), "Id" | "ID" | "id") && a.value == id);
        usize::from(own) + self.elements().map(|e| e.count_ids(id)).sum::<usize>()
    }
}

/// Parse a whole document into its root element.
pub fn parse(input: &str) -> Result<Element> {
    if input.len() > MAX_INPUT {
        return Err(bad(format!("the message is larger than {} KB", MAX_INPUT / 1024)));
    }
    let mut reader = Reader::from_str(input);
    let mut stack: Vec<Element> = Vec::new();
    // Namespace scopes: one list of (prefix, uri) per open element.
    let mut scopes: Vec<Vec<(String, String)>> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(|err| bad(format!("the message is not well-formed XML: {err}")))?;
        match event {
            Event::DocType(_) => return Err(bad("the message has a DOCTYPE; DTDs and entities are refused")),
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(bad("the message has content after its root element"));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(bad("the message is nested too deeply"));
                }
                let element = open(&start, &mut scopes)?;
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = open(&start, &mut scopes)?;
                scopes.pop();
                close(element, &mut stack, &mut root);
            }
            Event::End(_) => {
                // quick-xml checks that end tags match their start tags.
                let element = stack.pop().ok_or_else(|| bad("unbalanced end tag"))?;
                scopes.pop();
                close(element, &mut stack, &mut root);
            }
            Event::Text(text) => {
                let text = text.xml_content().map_err(|_| bad("the message is not valid UTF-8"))?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(data) => {
                let text = data.decode().map_err(|_| bad("the message is not valid UTF-8"))?;
                push_text(&mut stack, &text)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => {
                        let name = reference.decode().map_err(|_| bad("the message is not valid UTF-8"))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| bad(format!("unknown entity &{name}; (custom entities are refused)")))?
                            .to_owned()
                    }
                    Err(_) => return Err(bad("invalid character reference")),
                };
                push_text(&mut stack, &resolved)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(bad("the message is cut short (unclosed elements)"));
    }
    root.ok_or_else(|| bad("the message is empty"))
}

fn push_text(stack: &mut [Element], text: &str) -> Result<()> {
    match stack.last_mut() {
        Some(parent) => {
            // Merge adjacent pieces (text split around entity references).
            if let Some(Node::Text(previous)) = parent.children.last_mut() {
                previous.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(bad("the message has text outside its root element")),
    }
}

fn close(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

fn split(name: &str) -> (Option<String>, String) {
    match name.split_once(':') {
        Some((prefix, local)) => (Some(prefix.to_owned()), local.to_owned()),
        None => (None, name.to_owned()),
    }
}

fn resolve(scopes: &[Vec<(String, String)>], prefix: &str) -> Option<String> {
    if prefix == "xml" {
        return Some(XML_NS.to_owned());
    }
    scopes.iter().rev().flat_map(|scope| scope.iter()).find(|(p, _)| p == prefix).map(|(_, uri)| uri.clone())
}

fn open(start: &BytesStart, scopes: &mut Vec<Vec<(String, String)>>) -> Result<Element> {
    let name = std::str::from_utf8(start.name().as_ref()).map_err(|_| bad("the message is not valid UTF-8"))?.to_owned();
    let mut decls = Vec::new();
    let mut raw_attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|err| bad(format!("bad attribute: {err}")))?;
        let key = std::str::from_utf8(attr.key.as_ref()).map_err(|_| bad("the message is not valid UTF-8"))?.to_owned();
        let value = attr.unescape_value().map_err(|_| bad("an attribute has an unknown entity"))?.into_owned();
        if key == "xmlns" {
            decls.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            decls.push((prefix.to_owned(), value));
        } else {
            raw_attrs.push((key, value));
        }
    }
    scopes.push(decls.clone());
    let (prefix, local) = split(&name);
    let ns = resolve(scopes, prefix.as_deref().unwrap_or(""));
    if prefix.is_some() && ns.is_none() {
        return Err(bad(format!("undeclared namespace prefix in <{name}>")));
    }
    // An empty default namespace (xmlns="") means no namespace.
    let ns = ns.filter(|uri| !uri.is_empty());
    let mut attrs = Vec::with_capacity(raw_attrs.len());
    for (key, value) in raw_attrs {
        let (prefix, local) = split(&key);
        let ns = match &prefix {
            Some(p) => Some(resolve(scopes, p).ok_or_else(|| bad(format!("undeclared namespace prefix in attribute {key}")))?),
            None => None,
        };
        attrs.push(Attribute { prefix, local, ns, value });
    }
    Ok(Element { prefix, local, ns, ns_decls: decls, attrs, children: Vec::new() })
}

/// Inclusive C14N 1.0 (without comments) of `element`, a subtree of a document
/// whose ancestors are `ancestors` (outermost first): their namespace
/// declarations and `xml:` attributes are inherited as the spec requires.
pub fn c14n(ancestors: &[&Element], element: &Element) -> String {
    let mut in_scope: Vec<(String, String)> = Vec::new();
    let mut xml_attrs: Vec<Attribute> = Vec::new();
    for ancestor in ancestors {
        for (prefix, uri) in &ancestor.ns_decls {
            in_scope.retain(|(p, _)| p != prefix);
            in_scope.push((prefix.clone(), uri.clone()));
        }
        for attr in ancestor.attrs.iter().filter(|a| a.ns.as_deref() == Some(XML_NS)) {
            xml_attrs.retain(|a| a.local != attr.local);
            xml_attrs.push(attr.clone());
        }
    }
    let mut out = String::new();
    // Nothing is rendered yet above the apex: every namespace in scope is output.
    write_element(element, &in_scope, &[], Some(&xml_attrs), &mut out);
    out
}

fn write_element(
    element: &Element,
    inherited: &[(String, String)],
    rendered: &[(String, String)],
    inherited_xml_attrs: Option<&[Attribute]>,
    out: &mut String,
) {
    // The namespaces in scope here: the inherited ones overridden by our own.
    let mut scope: Vec<(String, String)> = inherited.to_vec();
    for (prefix, uri) in &element.ns_decls {
        scope.retain(|(p, _)| p != prefix);
        scope.push((prefix.clone(), uri.clone()));
    }
    // Output a namespace node unless the nearest output ancestor rendered the same one.
    let mut to_render: Vec<&(String, String)> = scope
        .iter()
        .filter(|(prefix, uri)| {
            let above = rendered.iter().find(|(p, _)| p == prefix).map(|(_, u)| u.as_str());
            if prefix.is_empty() {
                // xmlns="" is only needed to undo a rendered non-empty default.
                match above {
                    Some(u) => u != uri,
                    None => !uri.is_empty(),
                }
            } else {
                above != Some(uri.as_str())
            }
        })
        .collect();
    to_render.sort_by(|a, b| a.0.cmp(&b.0));

    let mut attrs: Vec<&Attribute> = element.attrs.iter().collect();
    if let Some(xml_attrs) = inherited_xml_attrs {
        for attr in xml_attrs {
            if !attrs.iter().any(|a| a.ns.as_deref() == Some(XML_NS) && a.local == attr.local) {
                attrs.push(attr);
            }
        }
    }
    // Sorted by (namespace URI, local name); unqualified attributes come first.
    attrs.sort_by(|a, b| (a.ns.as_deref().unwrap_or(""), &a.local).cmp(&(b.ns.as_deref().unwrap_or(""), &b.local)));

    let qname = qualified(&element.prefix, &element.local);
    out.push('<');
    out.push_str(&qname);
    for (prefix, uri) in &to_render {
        if prefix.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
        }
        escape_attr(uri, out);
        out.push('"');
    }
    for attr in attrs {
        out.push(' ');
        out.push_str(&qualified(&attr.prefix, &attr.local));
        out.push_str("=\"");
        escape_attr(&attr.value, out);
        out.push('"');
    }
    out.push('>');

    let mut now_rendered: Vec<(String, String)> = rendered.to_vec();
    for (prefix, uri) in to_render {
        now_rendered.retain(|(p, _)| p != prefix);
        now_rendered.push((prefix.clone(), uri.clone()));
    }
    for child in &element.children {
        match child {
            Node::Text(text) => escape_text(text, out),
            Node::Element(child) => write_element(child, &scope, &now_rendered, None, out),
        }
    }
    out.push_str("</");
    out.push_str(&qname);
    out.push('>');
}

fn qualified(prefix: &Option<String>, local: &str) -> String {
    match prefix {
        Some(prefix) => format!("{prefix}:{local}"),
        None => local.to_owned(),
    }
}

fn escape_text(text: &str, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(ch),
        }
    }
}

fn escape_attr(value: &str, out: &mut String) {
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(ch),
        }
    }
}

/// Escape text for element content when we write messages.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_doctype_and_custom_entities() {
        let err = parse("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>").unwrap_err();
        assert!(err.message.contains("DOCTYPE"), "{}", err.message);
        assert!(parse("<a>&x;</a>").unwrap_err().message.contains("entity"));
        assert_eq!(parse("<a>&lt;&#65;</a>").unwrap().text(), "<A");
    }

    #[test]
    fn bounds_input_size_and_depth() {
        let big = format!("<a>{}</a>", "x".repeat(MAX_INPUT));
        assert!(parse(&big).unwrap_err().message.contains("larger"));
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse(&deep).unwrap_err().message.contains("deeply"));
    }

    #[test]
    fn refuses_malformed_and_undeclared_prefixes() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("<x:a/>").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn c14n_inherits_namespaces_sorts_attributes_and_expands_empty_elements() {
        let doc = parse(r#"<r:root xmlns:r="urn:r" xmlns:z="urn:z"><r:a z:b="2" a="1" xmlns:y="urn:y"><y:c/>x &amp; y<![CDATA[<]]></r:a></r:root>"#).unwrap();
        let (ancestors, a) = doc.find(&|e| e.local == "a").unwrap();
        assert_eq!(
            c14n(&ancestors, a),
            r#"<r:a xmlns:r="urn:r" xmlns:y="urn:y" xmlns:z="urn:z" a="1" z:b="2"><y:c></y:c>x &amp; y&lt;</r:a>"#
        );
        // The whole document: declarations once, on the root.
        assert_eq!(
            c14n(&[], &doc),
            r#"<r:root xmlns:r="urn:r" xmlns:z="urn:z"><r:a xmlns:y="urn:y" a="1" z:b="2"><y:c></y:c>x &amp; y&lt;</r:a></r:root>"#
        );
    }

    #[test]
    fn c14n_drops_redundant_redeclarations_and_keeps_default_namespace_changes() {
        let doc = parse(r#"<a xmlns="urn:a" xmlns:p="urn:p"><p:b xmlns:p="urn:p"><c xmlns=""/></p:b></a>"#).unwrap();
        assert_eq!(c14n(&[], &doc), r#"<a xmlns="urn:a" xmlns:p="urn:p"><p:b><c xmlns=""></c></p:b></a>"#);
    }
}
