//! The tray side of the desktop for the e2e: a minimal StatusNotifierWatcher (what KDE's or
//! GNOME's AppIndicator extension runs) owning `org.kde.StatusNotifierWatcher` on the test's
//! session bus, and a client of the items it lists that reads their properties and drives
//! their menus over `com.canonical.dbusmenu`, as a panel does.
//!
//! The watcher follows KDE's: `RegisterStatusNotifierItem(service)` takes a bus name (the
//! item at `/StatusNotifierItem`) or an object path (on the caller's unique name), lists the
//! item as `<bus name><path>`, emits `StatusNotifierItemRegistered`, and forgets the item
//! (`StatusNotifierItemUnregistered`) when its bus name loses its owner. A host is always
//! registered (as both KDE's and GNOME's watchers answer).

use anyhow::{bail, Context};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedValue, Value};
use zbus::Connection;

/// The watcher's well-known name.
pub const WATCHER_NAME: &str = "org.kde.StatusNotifierWatcher";
/// The watcher's object path.
pub const WATCHER_PATH: &str = "/StatusNotifierWatcher";
const ITEM_INTERFACE: &str = "org.kde.StatusNotifierItem";
const MENU_INTERFACE: &str = "com.canonical.dbusmenu";

type Items = Arc<Mutex<Vec<String>>>;

struct WatcherIface {
    items: Items,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl WatcherIface {
    async fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        let item = if service.starts_with('/') {
            let sender = header
                .sender()
                .ok_or_else(|| zbus::fdo::Error::InvalidArgs("no sender".into()))?;
            format!("{sender}{service}")
        } else {
            zbus::names::BusName::try_from(service)
                .map_err(|e| zbus::fdo::Error::InvalidArgs(format!("{service:?}: {e}")))?;
            format!("{service}/StatusNotifierItem")
        };
        let added = {
            let mut items = self.items.lock().unwrap();
            let added = !items.contains(&item);
            if added {
                items.push(item.clone());
            }
            added
        };
        if added {
            Self::status_notifier_item_registered(&emitter, &item).await?;
        }
        Ok(())
    }

    async fn register_status_notifier_host(
        &self,
        _service: &str,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        Self::status_notifier_host_registered(&emitter).await?;
        Ok(())
    }

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().unwrap().clone()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_item_unregistered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_registered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;
}

/// A running watcher; it leaves the bus when dropped.
pub struct Watcher {
    conn: Connection,
    items: Items,
    forget: tokio::task::JoinHandle<()>,
}

impl Watcher {
    /// Serves the watcher on the session bus and takes its name (fails when another owns it).
    pub async fn start() -> anyhow::Result<Self> {
        let items = Items::default();
        let conn = zbus::connection::Builder::session()?
            .serve_at(
                WATCHER_PATH,
                WatcherIface {
                    items: items.clone(),
                },
            )?
            .build()
            .await
            .context("connecting the watcher to the session bus")?;
        let mut owners = zbus::fdo::DBusProxy::new(&conn)
            .await?
            .receive_name_owner_changed()
            .await?;
        conn.request_name_with_flags(WATCHER_NAME, zbus::fdo::RequestNameFlags::DoNotQueue.into())
            .await
            .context("taking org.kde.StatusNotifierWatcher")?;
        let forget = {
            let conn = conn.clone();
            let items = items.clone();
            tokio::spawn(async move {
                while let Some(change) = owners.next().await {
                    let Ok(args) = change.args() else { continue };
                    if args.new_owner().is_some() {
                        continue;
                    }
                    let prefix = format!("{}/", args.name());
                    let gone: Vec<String> = {
                        let mut items = items.lock().unwrap();
                        let gone = items
                            .iter()
                            .filter(|i| i.starts_with(&prefix))
                            .cloned()
                            .collect();
                        items.retain(|i| !i.starts_with(&prefix));
                        gone
                    };
                    for item in gone {
                        if let Ok(emitter) = SignalEmitter::new(&conn, WATCHER_PATH) {
                            let _ =
                                WatcherIface::status_notifier_item_unregistered(&emitter, &item)
                                    .await;
                        }
                    }
                }
            })
        };
        Ok(Self {
            conn,
            items,
            forget,
        })
    }

    /// The items registered now (`<bus name><path>`), as the watcher itself holds them.
    pub fn items(&self) -> Vec<String> {
        self.items.lock().unwrap().clone()
    }

    /// Leaves the bus (a panel quitting): releases the name and closes the connection.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.forget.abort();
        self.conn.release_name(WATCHER_NAME).await?;
        self.conn.clone().close().await?;
        Ok(())
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.forget.abort();
    }
}

/// A generic proxy without a property cache (each read asks the item).
async fn proxy(
    conn: &Connection,
    dest: &str,
    path: &str,
    interface: &str,
) -> anyhow::Result<zbus::Proxy<'static>> {
    Ok(zbus::proxy::Builder::<zbus::Proxy<'static>>::new(conn)
        .destination(dest.to_string())?
        .path(path.to_string())?
        .interface(interface.to_string())?
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?)
}

/// What a panel asks the watcher: the registered items (`RegisteredStatusNotifierItems`,
/// read over the bus from `conn`).
pub async fn registered_items(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let watcher = proxy(conn, WATCHER_NAME, WATCHER_PATH, WATCHER_NAME).await?;
    Ok(watcher
        .get_property("RegisteredStatusNotifierItems")
        .await?)
}

/// Waits until the watcher lists an item whose `Id` is `id`, asking over the bus from
/// `conn`, and returns it.
pub async fn wait_item(conn: &Connection, id: &str, timeout: Duration) -> anyhow::Result<Item> {
    let start = Instant::now();
    loop {
        let listed = registered_items(conn).await?;
        for entry in &listed {
            let item = Item::new(conn, entry).await?;
            // An item that left between the listing and now is skipped.
            if item.string("Id").await.ok().as_deref() == Some(id) {
                return Ok(item);
            }
        }
        if start.elapsed() > timeout {
            bail!("no item with Id {id:?} registered: {listed:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The tool tip: icon name, icon pixmaps, title, description.
pub type ToolTip = (String, Vec<(i32, i32, Vec<u8>)>, String, String);

/// A dbusmenu layout node as `GetLayout` answers it: `(ia{sv}av)`.
type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// One entry of a dbusmenu layout.
#[derive(Debug, Clone, PartialEq)]
pub struct MenuEntry {
    /// Its id (what `Event` takes).
    pub id: i32,
    /// Its label (`label`; empty for a separator).
    pub label: String,
    /// Its type (`type`: "standard" when absent, "separator").
    pub kind: String,
    /// Whether it can be clicked (`enabled`, default true).
    pub enabled: bool,
}

/// A StatusNotifierItem, seen from a host.
pub struct Item {
    /// The bus name it is reached at.
    pub bus: String,
    /// Its object path.
    pub path: String,
    item: zbus::Proxy<'static>,
    conn: Connection,
}

impl Item {
    /// The item of a watcher entry `<bus name><path>` (a bus name alone means
    /// `/StatusNotifierItem`).
    pub async fn new(conn: &Connection, entry: &str) -> anyhow::Result<Self> {
        let (bus, path) = match entry.find('/') {
            Some(i) => (&entry[..i], &entry[i..]),
            None => (entry, "/StatusNotifierItem"),
        };
        Ok(Self {
            bus: bus.to_string(),
            path: path.to_string(),
            item: proxy(conn, bus, path, ITEM_INTERFACE).await?,
            conn: conn.clone(),
        })
    }

    /// A string property (`Id`, `Title`, `Status`, `IconName`, `Category`, …).
    pub async fn string(&self, name: &str) -> anyhow::Result<String> {
        self.item
            .get_property(name)
            .await
            .with_context(|| format!("the item's {name}"))
    }

    /// `IconPixmap`: (width, height, ARGB32 bytes) per size.
    pub async fn icon_pixmap(&self) -> anyhow::Result<Vec<(i32, i32, Vec<u8>)>> {
        Ok(self.item.get_property("IconPixmap").await?)
    }

    /// `ToolTip`.
    pub async fn tool_tip(&self) -> anyhow::Result<ToolTip> {
        Ok(self.item.get_property("ToolTip").await?)
    }

    /// `ItemIsMenu`.
    pub async fn item_is_menu(&self) -> anyhow::Result<bool> {
        Ok(self.item.get_property("ItemIsMenu").await?)
    }

    /// Counts the item's `NewToolTip` signals from now on.
    pub async fn count_new_tool_tips(&self) -> anyhow::Result<SignalCount> {
        let mut stream = self.item.receive_signal("NewToolTip").await?;
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let task = {
            let count = count.clone();
            tokio::spawn(async move {
                while stream.next().await.is_some() {
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        };
        Ok(SignalCount { count, task })
    }

    /// `Activate(x, y)`: a left click on the icon.
    pub async fn activate(&self, x: i32, y: i32) -> zbus::Result<()> {
        self.item.call_method("Activate", &(x, y)).await.map(drop)
    }

    /// The proxy of the item's menu (its `Menu` property).
    pub async fn menu(&self) -> anyhow::Result<zbus::Proxy<'static>> {
        let path: zbus::zvariant::OwnedObjectPath = self.item.get_property("Menu").await?;
        proxy(&self.conn, &self.bus, path.as_str(), MENU_INTERFACE).await
    }

    /// The menu's entries, depth first (`GetLayout(0, -1, [])`), with its revision.
    pub async fn menu_layout(&self) -> anyhow::Result<(u32, Vec<MenuEntry>)> {
        let menu = self.menu().await?;
        let reply = menu
            .call_method("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
            .await?;
        let (revision, (_root, _props, children)): (u32, Layout) = reply.body().deserialize()?;
        let mut entries = Vec::new();
        for child in &children {
            collect_entries(child, &mut entries)?;
        }
        Ok((revision, entries))
    }

    /// The menu entry labelled `label`.
    pub async fn menu_entry(&self, label: &str) -> anyhow::Result<MenuEntry> {
        let (_, entries) = self.menu_layout().await?;
        entries
            .iter()
            .find(|e| e.label == label)
            .cloned()
            .with_context(|| format!("no menu entry {label:?}: {entries:?}"))
    }

    /// `Event(id, "clicked", <int32 0>, timestamp)`: a click on a menu entry, as a panel
    /// sends it.
    pub async fn click(&self, id: i32) -> zbus::Result<()> {
        let menu = self
            .menu()
            .await
            .map_err(|e| zbus::Error::Failure(e.to_string()))?;
        menu.call_method("Event", &(id, "clicked", Value::from(0i32), timestamp()))
            .await
            .map(drop)
    }
}

/// Seconds since the epoch, as an X timestamp-ish `u32` (hosts send their event time).
fn timestamp() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

/// A dbusmenu property's string (values in `a{sv}` may arrive wrapped in a variant).
fn unwrapped<'a>(v: &'a Value<'a>) -> &'a Value<'a> {
    match v {
        Value::Value(inner) => unwrapped(inner),
        other => other,
    }
}

/// Adds the entry `(ia{sv}av)` in `v` and its children to `out`.
fn collect_entries(v: &Value<'_>, out: &mut Vec<MenuEntry>) -> anyhow::Result<()> {
    let Value::Structure(s) = unwrapped(v) else {
        bail!("a menu entry is not a structure: {v:?}");
    };
    let [id, props, children] = s.fields() else {
        bail!("a menu entry has {} fields", s.fields().len());
    };
    let Value::I32(id) = unwrapped(id) else {
        bail!("a menu entry's id is not an int32: {id:?}");
    };
    let Value::Dict(props) = unwrapped(props) else {
        bail!("a menu entry's properties are not a dict");
    };
    let mut entry = MenuEntry {
        id: *id,
        label: String::new(),
        kind: "standard".into(),
        enabled: true,
    };
    for (key, value) in props.iter() {
        let (Value::Str(key), value) = (unwrapped(key), unwrapped(value)) else {
            continue;
        };
        match (key.as_str(), value) {
            ("label", Value::Str(s)) => entry.label = s.as_str().replace('_', ""),
            ("type", Value::Str(s)) => entry.kind = s.to_string(),
            ("enabled", Value::Bool(b)) => entry.enabled = *b,
            _ => {}
        }
    }
    out.push(entry);
    if let Value::Array(children) = unwrapped(children) {
        for child in children.inner() {
            collect_entries(child, out)?;
        }
    }
    Ok(())
}

/// Signals counted by a background task (stops when dropped).
pub struct SignalCount {
    count: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SignalCount {
    /// How many arrived so far.
    pub fn get(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for SignalCount {
    fn drop(&mut self) {
        self.task.abort();
    }
}
