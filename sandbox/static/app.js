// The sandbox page: chat columns over the local Bot API server's control API (/_sandbox/...).
// Plain JS, no build step. Text is rendered from Telegram's message entities with DOM nodes
// only (never innerHTML), so nothing the bot or a user writes can inject markup.
"use strict";

// Penajam, Penajam Paser Utara: what "share my location" sends (offline, no map).
const PRESET_LOCATION = { lat: -1.2527, lon: 116.8311 };
const ROLE_TITLES = { citizen: "Warga", officer: "Petugas penghubung", admin: "Admin koordinator",
  group: "Grup instansi" };
const ROLE_ICONS = { citizen: "🙋", officer: "🛠", admin: "🏛", group: "👥" };

// This start's token, written into the page by the server: every control call carries it, so no
// other web page the operator visits can drive the sandbox (sandbox/guard.py).
const TOKEN = document.querySelector('meta[name="sandbox-token"]').content;

const state = { people: null, columns: [], active: null, version: 0, violations: -1, nextColumn: 1 };

// -- helpers ------------------------------------------------------------------------------------

async function api(path, options = {}) {
  const init = { ...options };
  if (init.json !== undefined) {
    init.method = init.method || "POST";
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(init.json);
    delete init.json;
  }
  init.headers = { ...(init.headers || {}), "X-Sandbox-Token": TOKEN };
  const resp = await fetch(path, init);
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.error || `${resp.status} ${resp.statusText}`);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function toast(text, { alert = false } = {}) {
  const box = document.getElementById("toasts");
  const item = el("div", { class: alert ? "toast alert" : "toast", role: alert ? "alert" : null }, text);
  if (alert) {
    item.append(el("button", { type: "button", onclick: () => item.remove() }, "OK"));
  } else {
    setTimeout(() => item.remove(), 4000);
  }
  box.append(item);
}

function safeUrl(url) {
  try {
    const parsed = new URL(url, "http://invalid.example/");
    if (["http:", "https:", "tg:", "mailto:"].includes(parsed.protocol) && !url.startsWith("/")) return parsed.href;
  } catch (_) { /* not a URL */ }
  return null;
}

function personName(user) {
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

function shortName(userId) {
  const p = state.people;
  const members = p ? p.groups.flatMap((g) => g.members) : [];
  const everyone = p ? [...p.citizens, ...p.officers, p.admin, ...members] : [];
  const found = everyone.find((u) => u.id === userId);
  return found ? found.name : String(userId);
}

function roleOf(userId) {
  const p = state.people;
  if (!p) return "citizen";
  if (p.admin.id === userId) return "admin";
  if (p.officers.some((o) => o.id === userId)) return "officer";
  return "citizen";
}

// -- text with entities -------------------------------------------------------------------------

function entityElement(entity, text, column) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre", { "data-language": entity.language });
    case "blockquote": case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const span = el("span", { class: "spoiler", tabindex: "0", title: "Spoiler" });
      const reveal = () => span.classList.add("revealed");
      span.addEventListener("click", reveal);
      span.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") reveal(); });
      return span;
    }
    case "text_link": {
      const href = safeUrl(entity.url || "");
      return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span", { class: "link" });
    }
    case "url": {
      const href = safeUrl(/^[a-z]+:/i.test(text) ? text : `http://${text}`);
      return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span");
    }
    case "bot_command":
      // Telegram sends a command when it is tapped; so does the sandbox.
      return el("button", { type: "button", class: "command", onclick: () => column.sendText(text) });
    default:
      return el("span", { class: `entity-${entity.type}` });
  }
}

function renderEntities(parent, text, start, end, entities, column) {
  // Offsets are UTF-16 code units, exactly what JS strings index by.
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const e = entities[i];
    const eStart = Math.max(e.offset, pos);
    const eEnd = Math.min(e.offset + e.length, end);
    if (eStart >= eEnd) { i += 1; continue; }
    if (eStart > pos) parent.append(text.slice(pos, eStart));
    const inner = [];
    let j = i + 1;
    while (j < entities.length && entities[j].offset < eEnd) { inner.push(entities[j]); j += 1; }
    const node = entityElement(e, text.slice(eStart, eEnd), column);
    renderEntities(node, text, eStart, eEnd, inner, column);
    parent.append(node);
    pos = eEnd;
    i = j;
  }
  if (pos < end) parent.append(text.slice(pos, end));
}

function formattedText(text, entities, column, cls = "text") {
  const box = el("div", { class: cls });
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  renderEntities(box, text, 0, text.length, sorted, column);
  return box;
}

// -- one message --------------------------------------------------------------------------------

function fileUrl(fileId) {
  // Loaded by the browser itself (<img>, a link): the token goes in the query.
  return `/_sandbox/files/${encodeURIComponent(fileId)}?token=${encodeURIComponent(TOKEN)}`;
}

function humanSize(bytes) {
  if (!bytes && bytes !== 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function mediaBlock(msg) {
  const m = msg.media || {};
  if (m.photo) {
    const largest = m.photo[m.photo.length - 1];
    const placeholder = el("div", { class: "photo-placeholder" }, `🖼 Foto ${largest.width}×${largest.height}`);
    const img = el("img", { class: "photo", src: fileUrl(largest.file_id), alt: "Foto", loading: "lazy" });
    // Simulated users' photos are fabricated bytes, not pictures: show a placeholder for those.
    img.addEventListener("error", () => img.replaceWith(placeholder));
    return img;
  }
  if (m.document) {
    const d = m.document;
    return el("a", { class: "document", href: fileUrl(d.file_id), download: d.file_name || "file" },
      `📄 ${d.file_name || "Dokumen"} `, el("small", {}, humanSize(d.file_size)));
  }
  if (m.location) {
    return el("div", { class: "location" }, "📍 Lokasi ",
      el("span", { class: "coords" }, `${m.location.latitude.toFixed(5)}, ${m.location.longitude.toFixed(5)}`));
  }
  const labels = { video: "🎬 Video", voice: "🎤 Pesan suara", audio: "🎵 Audio", animation: "🎞 GIF",
    sticker: `Stiker ${(m.sticker && m.sticker.emoji) || ""}`, contact: "👤 Kontak", video_note: "⏺ Video bulat" };
  for (const [key, label] of Object.entries(labels)) {
    if (m[key]) return el("div", { class: "media-other" }, label);
  }
  return null;
}

function inlineKeyboard(msg, column) {
  const rows = msg.buttons || [];
  if (!rows.length) return null;
  const box = el("div", { class: "inline-keyboard", role: "group", "aria-label": "Tombol" });
  for (const row of rows) {
    const line = el("div", { class: "kb-row" });
    for (const button of row) {
      if (button.callback_data !== undefined) {
        line.append(el("button", { type: "button", class: "kb", onclick: () => column.press(msg, button) }, button.text));
      } else if (button.url && safeUrl(button.url)) {
        line.append(el("a", { class: "kb", href: safeUrl(button.url), target: "_blank", rel: "noopener noreferrer" },
          `${button.text} ↗`));
      } else {
        line.append(el("button", { type: "button", class: "kb", disabled: true, title: "Tidak didukung di sandbox" },
          button.text));
      }
    }
    box.append(line);
  }
  return box;
}

function messageNode(msg, column) {
  const fromBot = msg.from_bot;
  const node = el("li", {
    class: `message ${fromBot ? "from-bot" : "from-user"}`,
    "data-message-id": String(msg.message_id),
  });
  if (column.group) {
    // A group: who wrote it, and the forum topic it is in (Telegram shows a topic per tab).
    if (msg.message_thread_id) {
      node.dataset.threadId = String(msg.message_thread_id);
      node.append(el("button", { type: "button", class: "topic-chip", title: "Tulis di topik ini",
        onclick: () => column.useTopic(msg.message_thread_id) }, `🧵 ${column.topicName(msg.message_thread_id)}`));
    }
    if (!fromBot) node.append(el("div", { class: "sender" }, shortName(msg.sender_id)));
  }
  if (msg.service && msg.service.forum_topic_created) {
    node.classList.add("service");
    node.append(el("div", { class: "text" }, `Topik dibuat: ${msg.service.forum_topic_created.name}`));
  }
  const media = mediaBlock(msg);
  if (media) node.append(media);
  if (msg.text !== null && msg.text !== undefined) node.append(formattedText(msg.text, msg.entities, column));
  if (msg.caption) node.append(formattedText(msg.caption, msg.caption_entities, column, "text caption"));
  const keyboard = inlineKeyboard(msg, column);
  if (keyboard) node.append(keyboard);
  const time = new Date(msg.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  node.append(el("div", { class: "meta" }, msg.edit_date ? `diedit · ${time}` : time));
  return node;
}

// -- a chat column ------------------------------------------------------------------------------

class Column {
  // ``group``: an agency's group chat ({id, title, members}); the selector then picks which
  // member writes and presses, and the chat is the group's, not the person's.
  constructor(userId, group = null) {
    this.userId = userId;
    this.group = group;
    this.thread = null; // the forum topic the composer writes in (null: General)
    this.topics = [];
    this.messages = new Map();
    this.version = 0;
    const template = document.getElementById("column-template");
    this.root = template.content.firstElementChild.cloneNode(true);
    this.list = this.root.querySelector(".messages");
    this.who = this.root.querySelector(".who");
    this.text = this.root.querySelector(".text");
    this.replyKeyboard = this.root.querySelector(".reply-keyboard");
    this.menu = this.root.querySelector(".menu");
    this.file = this.root.querySelector(".file");
    this.topicSelect = this.root.querySelector(".topic");
    this.root.id = `chat-${state.nextColumn}`;
    this.tab = el("button", {
      type: "button", role: "tab", class: "tab", id: `tab-${state.nextColumn}`, "aria-controls": this.root.id,
      "aria-selected": "false", tabindex: "-1", onclick: () => selectColumn(this),
    });
    state.nextColumn += 1;
    this.wire();
  }

  wire() {
    this.who.addEventListener("change", () => this.switchTo(Number(this.who.value)));
    this.topicSelect.addEventListener("change", () => {
      this.thread = this.topicSelect.value ? Number(this.topicSelect.value) : null;
    });
    this.root.querySelector(".composer").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = this.text.value;
      if (!text.trim()) return;
      this.text.value = "";
      this.sendText(text);
    });
    this.text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        this.root.querySelector(".composer").requestSubmit();
      }
    });
    this.root.querySelector(".attach").addEventListener("click", () => this.file.click());
    this.file.addEventListener("change", () => this.upload());
    this.root.querySelector(".share-location").addEventListener("click", () => this.shareLocation());
    this.root.querySelector(".open-menu").addEventListener("click", () => this.toggleMenu());
    this.root.querySelector(".close-column").addEventListener("click", () => removeColumn(this));
  }

  get role() {
    return this.group ? "group" : roleOf(this.userId);
  }

  get chatId() {
    return this.group ? this.group.id : this.userId;
  }

  topicName(threadId) {
    const topic = this.topics.find((t) => t.message_thread_id === threadId);
    return topic ? topic.name : `#${threadId}`;
  }

  useTopic(threadId) {
    this.thread = threadId;
    this.topicSelect.value = String(threadId);
    this.text.focus();
  }

  async refreshTopics() {
    const summary = await api("/_sandbox/state");
    const chat = summary.chats.find((c) => c.id === this.chatId);
    const topics = chat ? chat.topics : [];
    // Redrawn when a topic opens, is renamed, closed or reopened (a closed one is marked 🔒:
    // only the group's admins may write there).
    const key = JSON.stringify(topics.map((t) => [t.message_thread_id, t.name, t.closed]));
    if (key === this.topicsKey) return;
    this.topicsKey = key;
    this.topics = topics;
    const current = this.topicSelect.value;
    this.topicSelect.replaceChildren(el("option", { value: "" }, "Umum (General)"),
      ...topics.map((t) => el("option", { value: String(t.message_thread_id) }, `${t.closed ? "🔒 " : ""}${t.name}`)));
    this.topicSelect.value = current;
    for (const msg of this.messages.values()) this.put(msg);
  }

  fillSelector() {
    const p = state.people;
    this.who.replaceChildren();
    if (this.group) {
      // Who is who in the group: an officer of the agency may press its buttons; the others not.
      const officers = new Set(p.officers.map((o) => o.id));
      for (const m of this.group.members) {
        const what = officers.has(m.id) ? "petugas" : "bukan petugas";
        this.who.append(el("option", { value: String(m.id) }, `${m.name} (${what})`));
      }
      this.root.querySelector(".topic-label").hidden = false;
      this.who.value = String(this.userId);
      this.label();
      return;
    }
    const group = (label, users, text) => {
      const g = el("optgroup", { label });
      for (const u of users) g.append(el("option", { value: String(u.id) }, text(u)));
      this.who.append(g);
    };
    group("Warga", p.citizens, (u) => u.name);
    group("Petugas penghubung", p.officers, (o) => `${o.name} · ${o.agency_name}`);
    group("Admin koordinator", [p.admin], (u) => u.name);
    this.who.value = String(this.userId);
    this.label();
  }

  label() {
    const option = this.who.selectedOptions[0];
    const name = option ? option.textContent : String(this.userId);
    this.root.dataset.userId = String(this.userId);
    this.root.dataset.role = this.role;
    const title = this.group ? `${this.group.title} (${this.group.agency_name})` : name;
    this.root.dataset.chatId = String(this.chatId);
    this.root.setAttribute("aria-label", `${ROLE_TITLES[this.role]}: ${title}`);
    this.text.setAttribute("aria-label", `Pesan sebagai ${name}`);
    this.tab.textContent = `${ROLE_ICONS[this.role]} ${this.group ? this.group.title : shortName(this.userId)}`;
    this.tab.dataset.role = this.role;
    this.tab.title = `${ROLE_TITLES[this.role]}: ${name}`;
  }

  async switchTo(userId) {
    this.userId = userId;
    if (this.group) {
      // Another member of the same group: the same chat, another sender.
      this.label();
      return;
    }
    this.messages.clear();
    this.version = 0;
    this.list.replaceChildren();
    this.menu.hidden = true;
    this.label();
    await this.refresh();
  }

  async refresh() {
    const since = this.version;
    const chatId = this.chatId;
    if (this.group) await this.refreshTopics();
    const data = await api(`/_sandbox/chats/${chatId}/messages?since=${since}`);
    if (chatId !== this.chatId) return; // switched meanwhile
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    for (const msg of data.messages) this.put(msg);
    this.version = Math.max(this.version, data.version);
    // On a phone the other chats are behind their tabs: mark the ones the bot wrote to.
    if (since > 0 && state.active !== this && data.messages.some((m) => m.from_bot)) this.tab.classList.add("unread");
    if (data.messages.length) {
      this.renderReplyKeyboard();
      if (atBottom || since === 0) this.list.scrollTop = this.list.scrollHeight;
    }
  }

  put(msg) {
    const existing = this.list.querySelector(`[data-message-id="${msg.message_id}"]`);
    if (msg.deleted) {
      this.messages.delete(msg.message_id);
      if (existing) existing.remove();
      return;
    }
    this.messages.set(msg.message_id, msg);
    const node = messageNode(msg, this);
    if (existing) {
      existing.replaceWith(node);
      return;
    }
    this.list.append(node);
    // A picture gets its height only once loaded; keep the newest message in view.
    for (const img of node.querySelectorAll("img")) {
      img.addEventListener("load", () => { this.list.scrollTop = this.list.scrollHeight; }, { once: true });
    }
  }

  renderReplyKeyboard() {
    // The keyboard on screen is the one of the bot's latest message that set or removed one;
    // a one-time keyboard hides once the user has sent something after it.
    const ordered = [...this.messages.values()].sort((a, b) => a.message_id - b.message_id);
    let current = null;
    let sentAfter = false;
    for (const msg of ordered) {
      // A client acts on the keyboard a message arrived with; an edit can only change its
      // inline buttons (the bot removes the reply keyboard and adds buttons by an edit).
      const markup = msg.history && msg.history.length ? msg.history[0].reply_markup : msg.reply_markup;
      if (msg.from_bot && markup && (markup.keyboard || markup.remove_keyboard)) {
        current = markup.keyboard ? markup : null;
        sentAfter = false;
      } else if (!msg.from_bot) {
        sentAfter = true;
      }
    }
    const box = this.replyKeyboard;
    box.replaceChildren();
    if (!current || (current.one_time_keyboard && sentAfter)) {
      box.hidden = true;
      return;
    }
    if (current.input_field_placeholder) this.text.placeholder = current.input_field_placeholder;
    for (const row of current.keyboard) {
      const line = el("div", { class: "kb-row" });
      for (const raw of row) {
        const button = typeof raw === "string" ? { text: raw } : raw;
        line.append(el("button", { type: "button", class: "kb reply", onclick: () => this.replyButton(button) }, button.text));
      }
      box.append(line);
    }
    box.hidden = false;
  }

  async replyButton(button) {
    if (button.request_location) return this.shareLocation();
    if (button.request_contact || button.request_users || button.request_chat || button.request_poll) {
      toast("Tombol ini tidak didukung di sandbox.");
      return;
    }
    return this.sendText(button.text);
  }

  async send(body) {
    try {
      const where = this.group && this.thread ? { thread_id: this.thread } : {};
      await api(`/_sandbox/chats/${this.chatId}/send`, { json: { user_id: this.userId, ...where, ...body } });
    } catch (err) {
      toast(`Gagal mengirim: ${err.message}`, { alert: true });
    }
    await this.refresh();
  }

  sendText(text) {
    this.menu.hidden = true;
    return this.send({ type: "text", text });
  }

  shareLocation() {
    return this.send({ type: "location", ...PRESET_LOCATION });
  }

  async upload() {
    const file = this.file.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("user_id", String(this.userId));
    form.append("file", file, file.name);
    const caption = this.text.value.trim();
    if (caption) form.append("caption", caption);
    try {
      await api(`/_sandbox/chats/${this.chatId}/upload`, { method: "POST", body: form });
      this.text.value = "";
    } catch (err) {
      toast(`Gagal mengunggah: ${err.message}`, { alert: true });
    }
    this.file.value = "";
    await this.refresh();
  }

  async press(msg, button) {
    let pressed;
    try {
      pressed = await api(`/_sandbox/chats/${this.chatId}/press`, {
        json: { user_id: this.userId, message_id: msg.message_id, callback_data: button.callback_data },
      });
    } catch (err) {
      toast(`Tombol tidak dapat ditekan: ${err.message}`, { alert: true });
      return;
    }
    // The bot answers the callback query a moment later; Telegram shows its text as a toast.
    const deadline = Date.now() + 12000;
    while (Date.now() < deadline) {
      const cq = await api(`/_sandbox/callbacks/${pressed.callback_query_id}`);
      if (cq.answer) {
        if (cq.answer.text) toast(cq.answer.text, { alert: Boolean(cq.answer.show_alert) });
        if (cq.answer.url && safeUrl(cq.answer.url)) window.open(safeUrl(cq.answer.url), "_blank", "noopener");
        return;
      }
      if (cq.expired) {
        toast("Bot tidak menjawab tombol ini (lihat pelanggaran).", { alert: true });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  async toggleMenu() {
    if (!this.menu.hidden) {
      this.menu.hidden = true;
      return;
    }
    const data = await api(`/_sandbox/chats/${this.chatId}/commands?user_id=${this.userId}`);
    this.menu.replaceChildren();
    if (!data.commands.length) this.menu.append(el("p", {}, "Bot belum memasang menu perintah."));
    for (const c of data.commands) {
      this.menu.append(el("button", { type: "button", class: "menu-item", onclick: () => this.sendText(`/${c.command}`) },
        el("b", {}, `/${c.command}`), ` ${c.description}`));
    }
    this.menu.hidden = false;
  }
}

// -- the page -----------------------------------------------------------------------------------

function addColumn(userId, group = null) {
  const column = new Column(userId, group);
  state.columns.push(column);
  document.getElementById("columns").append(column.root);
  document.getElementById("tabs").append(column.tab);
  column.fillSelector();
  column.refresh();
  return column;
}

function selectColumn(column) {
  // Wide screens show every column side by side; narrow ones (see style.css) only the active one.
  state.active = column;
  for (const c of state.columns) {
    const active = c === column;
    c.root.classList.toggle("active", active);
    c.tab.setAttribute("aria-selected", String(active));
    c.tab.tabIndex = active ? 0 : -1;
  }
  column.tab.classList.remove("unread");
  column.list.scrollTop = column.list.scrollHeight;
}

function removeColumn(column) {
  if (state.columns.length <= 1) return;
  state.columns = state.columns.filter((c) => c !== column);
  column.root.remove();
  column.tab.remove();
  if (state.active === column) selectColumn(state.columns[0]);
}

function wireTabKeys() {
  // Arrow keys move between tabs, as in every tablist.
  document.getElementById("tabs").addEventListener("keydown", (e) => {
    const i = state.columns.indexOf(state.active);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (step === undefined || i < 0) return;
    const next = state.columns[(i + step + state.columns.length) % state.columns.length];
    selectColumn(next);
    next.tab.focus();
    e.preventDefault();
  });
}

async function loadPeople() {
  for (;;) {
    try {
      state.people = await api("/_sandbox/people");
      return;
    } catch (_) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function refreshViolations(force = false) {
  const summary = await api("/_sandbox/state");
  if (!force && summary.violation_count === state.violations) return;
  state.violations = summary.violation_count;
  document.getElementById("violation-count").textContent = String(summary.violation_count);
  const button = document.getElementById("toggle-violations");
  button.classList.toggle("bad", summary.violation_count > 0);
  const list = document.getElementById("violation-list");
  const items = await api("/_sandbox/violations");
  list.replaceChildren(...(items.length
    ? items.map((v) => el("li", {},
      el("code", {}, v.method), ` chat ${v.chat_id ?? "–"}: ${v.description}`))
    : [el("li", { class: "empty" }, "Tidak ada.")]));
}

async function pollForever() {
  for (;;) {
    try {
      const data = await api(`/_sandbox/poll?since=${state.version}&timeout=25`);
      state.version = data.version;
      await Promise.all(state.columns.map((c) => c.refresh()));
      await refreshViolations();
    } catch (_) {
      // The sandbox restarted or stopped: try again shortly.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function main() {
  await loadPeople();
  const p = state.people;
  const firstOfficer = p.officers[0];
  addColumn(p.citizens[0].id);
  if (firstOfficer) addColumn(firstOfficer.id);
  addColumn(p.admin.id);
  // Each agency group chat beside the private chats, written in as its officer at first.
  for (const group of p.groups) addColumn(group.members[0].id, group);
  selectColumn(state.columns[0]);
  wireTabKeys();

  document.getElementById("add-citizen").addEventListener("click", async () => {
    const created = await api("/_sandbox/people/citizens", { method: "POST" });
    state.people = await api("/_sandbox/people");
    for (const c of state.columns) c.fillSelector();
    const target = state.columns.find((c) => c.role === "citizen") || state.columns.find((c) => !c.group);
    target.fillSelector();
    target.who.value = String(created.user.id);
    await target.switchTo(created.user.id);
    selectColumn(target);
    toast(`${created.user.name} siap.`);
  });
  document.getElementById("add-column").addEventListener("click", () => selectColumn(addColumn(p.citizens[0].id)));
  document.getElementById("toggle-violations").addEventListener("click", (e) => {
    const panel = document.getElementById("violations");
    panel.hidden = !panel.hidden;
    e.currentTarget.setAttribute("aria-expanded", String(!panel.hidden));
  });
  await refreshViolations(true);
  document.body.dataset.ready = "true";
  pollForever();
}

main();
