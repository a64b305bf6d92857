// Shows every <time datetime> in the reader's own time zone and language.
document.addEventListener("DOMContentLoaded", function () {
  var lang = document.documentElement.lang || undefined;
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch (e) {
    return;
  }
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) {
      el.title = el.textContent;
      el.textContent = fmt.format(d);
    }
  });
});

// A form that destroys something asks first: its data-confirm is the
// question (the page's policy forbids inline handlers).
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});

// Attachments: each picture chosen gets a field for its description
// (alternative text), placed before the file field so that the server
// reads the descriptions first, in the order of the pictures.
document.addEventListener("change", function (e) {
  var input = e.target;
  if (!input || input.type !== "file" || !input.hasAttribute("data-alt-label")) {
    return;
  }
  var box = input.form && input.form.querySelector(".alt-texts");
  if (!box) {
    return;
  }
  box.textContent = "";
  var label = input.getAttribute("data-alt-label");
  Array.prototype.forEach.call(input.files, function (file, i) {
    if (!/^image\/(png|jpeg|webp)$/.test(file.type)) {
      return;
    }
    var id = input.id + "-alt-" + i;
    var l = document.createElement("label");
    l.setAttribute("for", id);
    l.textContent = label + " " + file.name;
    var t = document.createElement("input");
    t.type = "text";
    t.name = "alt";
    t.id = id;
    t.maxLength = 1500;
    box.appendChild(l);
    box.appendChild(t);
  });
});

// Live news (server-sent events from /live): the unread count in the menu
// and, above a feed, how many newer posts wait. The browser reconnects by
// itself after a cut; after a refusal (too many pages listening, or the
// session ended) it tries again a minute later, at most.
document.addEventListener("DOMContentLoaded", function () {
  var url = document.body.getAttribute("data-live");
  if (!url || !window.EventSource) {
    return;
  }
  var title = document.title;
  function show(news) {
    document.querySelectorAll("[data-unread]").forEach(function (el) {
      el.textContent = String(news.unread);
      el.hidden = news.unread === 0;
    });
    document.title = news.unread > 0 ? "(" + news.unread + ") " + title : title;
    var banner = document.querySelector(".new-posts");
    var link = banner && banner.querySelector("a");
    if (link && typeof news.posts === "number") {
      var n = news.posts;
      var text = news.more ? link.getAttribute("data-more")
        : n === 1 ? link.getAttribute("data-one") : link.getAttribute("data-other");
      link.textContent = text.replace("{n}", String(n));
      banner.hidden = n === 0;
    }
  }
  var source = null;
  // Refusals in a row (signed out, too many pages): after three the page
  // stops asking.
  var refused = 0;
  function listen() {
    source = new EventSource(url);
    source.addEventListener("news", function (e) {
      refused = 0;
      try {
        show(JSON.parse(e.data));
      } catch (err) {
        // A message that is not ours changes nothing.
      }
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED && ++refused < 3) {
        window.setTimeout(listen, 60000);
      }
    });
  }
  // A page left is closed at once (a browser keeping it for "back" would
  // otherwise keep its connection, and browsers open few per site), and
  // listens again when shown again.
  window.addEventListener("pagehide", function () {
    if (source) {
      source.close();
    }
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) {
      listen();
    }
  });
  listen();
});

// Writing a post or a comment: a Preview of what will be published (the
// server renders it, as it will be shown) and suggestions of people while a
// mention is typed after "@" (arrows choose, Enter or Tab takes, Escape
// closes). Both come with the script: without it, the forms work as before.
document.addEventListener("DOMContentLoaded", function () {
  var labels = document.body.dataset;
  if (!labels.preview) {
    return;
  }
  document.querySelectorAll("form textarea[name=body]").forEach(function (area, n) {
    var form = area.form;
    var csrf = form.querySelector("input[name=csrf]");
    if (!csrf) {
      return;
    }
    // Preview.
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "secondary preview-toggle";
    toggle.textContent = labels.preview;
    toggle.setAttribute("aria-pressed", "false");
    var shown = document.createElement("div");
    shown.className = "body preview";
    shown.hidden = true;
    shown.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", shown);
    shown.insertAdjacentElement("afterend", toggle);
    toggle.addEventListener("click", function () {
      if (!shown.hidden) {
        shown.hidden = true;
        area.hidden = false;
        toggle.textContent = labels.preview;
        toggle.setAttribute("aria-pressed", "false");
        area.focus();
        return;
      }
      var data = new URLSearchParams();
      data.set("csrf", csrf.value);
      data.set("body", area.value);
      fetch("/preview", { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) {
          return r.text().then(function (t) { return { ok: r.ok, text: t }; });
        })
        .then(function (r) {
          if (r.ok) {
            shown.innerHTML = r.text;
          } else {
            shown.textContent = r.text;
          }
          shown.hidden = false;
          area.hidden = true;
          toggle.textContent = labels.write;
          toggle.setAttribute("aria-pressed", "true");
        });
    });

    // Mentions.
    var list = document.createElement("ul");
    list.className = "mentions";
    list.id = "mentions-" + n;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    area.insertAdjacentElement("afterend", list);
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", list.id);
    area.setAttribute("aria-expanded", "false");
    var timer = null;
    var active = -1;
    function typed() {
      var before = area.value.slice(0, area.selectionStart);
      var m = /(^|\s)@([\w.\-]{1,60}(@[\w.\-:]{0,100})?)$/.exec(before);
      return m ? m[2] : null;
    }
    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      area.setAttribute("aria-expanded", "false");
      area.removeAttribute("aria-activedescendant");
    }
    function choose(username) {
      var start = area.selectionStart;
      var before = area.value.slice(0, start);
      var q = typed();
      if (q === null) {
        return close();
      }
      var head = before.slice(0, before.length - q.length);
      area.value = head + username + " " + area.value.slice(start);
      var caret = head.length + username.length + 1;
      area.setSelectionRange(caret, caret);
      close();
      area.focus();
    }
    function mark(i) {
      var items = list.querySelectorAll("li");
      items.forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
      active = i;
      if (items[i]) {
        area.setAttribute("aria-activedescendant", items[i].id);
      }
    }
    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      var q = typed();
      if (!q) {
        return close();
      }
      timer = window.setTimeout(function () {
        fetch("/mentions?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (v) {
            list.textContent = "";
            (v.items || []).forEach(function (p, i) {
              var li = document.createElement("li");
              li.id = list.id + "-" + i;
              li.setAttribute("role", "option");
              var who = document.createElement("b");
              who.textContent = p.display_name || p.username;
              var handle = document.createElement("span");
              handle.className = "muted";
              handle.textContent = " @" + p.username;
              li.appendChild(who);
              li.appendChild(handle);
              li.addEventListener("mousedown", function (e) {
                e.preventDefault();
                choose(p.username);
              });
              li.dataset.username = p.username;
              list.appendChild(li);
            });
            if (list.children.length === 0) {
              return close();
            }
            list.hidden = false;
            area.setAttribute("aria-expanded", "true");
            mark(0);
          });
      }, 200);
    });
    area.addEventListener("keydown", function (e) {
      if (list.hidden) {
        return;
      }
      var items = list.querySelectorAll("li");
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        var step = e.key === "ArrowDown" ? 1 : items.length - 1;
        mark((active + step) % items.length);
      } else if ((e.key === "Enter" || e.key === "Tab") && items[active]) {
        e.preventDefault();
        choose(items[active].dataset.username);
      } else if (e.key === "Escape") {
        close();
      }
    });
    area.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });
  });
});

// The sign-in form tells the browser's clock (minutes east of UTC, and the
// time zone's name, which follows summer time), so that e-mail digests
// leave at the person's morning.
document.addEventListener("DOMContentLoaded", function () {
  var offset = String(-new Date().getTimezoneOffset());
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }
  document.querySelectorAll("input[data-clock]").forEach(function (input) {
    input.value = offset;
  });
  document.querySelectorAll("input[data-zone]").forEach(function (input) {
    input.value = zone;
  });
});
