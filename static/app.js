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

// A question being asked: the questions already asked like its title are
// shown while it is typed, so that an answer may be there already.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-similar]").forEach(function (input) {
    var box = document.getElementById(input.getAttribute("data-similar"));
    if (!box) {
      return;
    }
    var list = box.querySelector("ul");
    var solved = box.getAttribute("data-solved") || "";
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 3) {
        box.hidden = true;
        return;
      }
      timer = window.setTimeout(function () {
        if (q === asked) {
          return;
        }
        asked = q;
        fetch("/questions/similar?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (v) {
            if (q !== asked) {
              return;
            }
            list.textContent = "";
            (v.items || []).forEach(function (item) {
              var li = document.createElement("li");
              var a = document.createElement("a");
              a.href = "/posts/" + item.id;
              a.textContent = item.title;
              li.appendChild(a);
              if (item.solved && solved) {
                var mark = document.createElement("span");
                mark.className = "badge accepted";
                mark.textContent = solved;
                li.appendChild(document.createTextNode(" "));
                li.appendChild(mark);
              }
              list.appendChild(li);
            });
            box.hidden = list.children.length === 0;
          })
          .catch(function () {
            box.hidden = true;
          });
      }, 300);
    });
  });
});

// Where a question is asked: its audience is chosen outside communities
// only (a community's question is for its readers).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-audience]").forEach(function (select) {
    var row = document.getElementById(select.getAttribute("data-audience"));
    if (!row) {
      return;
    }
    select.addEventListener("change", function () {
      row.hidden = select.value !== "";
    });
  });
});

// Passkeys (WebAuthn): the server's options, whose binary fields are
// base64url text, become what the browser's navigator.credentials asks;
// its answer goes back as JSON with the page's CSRF token.
(function () {
  function bytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }
  function text(buf) {
    if (!buf) {
      return null;
    }
    var b = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < b.length; i++) {
      bin += String.fromCharCode(b[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    (list || []).forEach(function (c) {
      c.id = bytes(c.id);
    });
  }
  function extensions(cred) {
    return cred.getClientExtensionResults ? cred.getClientExtensionResults() : {};
  }
  function created(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: text(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: text(r.attestationObject),
        clientDataJSON: text(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined
      },
      extensions: extensions(cred)
    };
  }
  function asserted(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: text(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: text(r.authenticatorData),
        clientDataJSON: text(r.clientDataJSON),
        signature: text(r.signature),
        userHandle: text(r.userHandle)
      },
      extensions: extensions(cred)
    };
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (v) {
        if (!r.ok) {
          throw new Error((v.error && v.error.message) || String(r.status));
        }
        return v;
      });
    });
  }
  function csrf() {
    var input = document.querySelector("input[name=csrf]");
    return input ? input.value : "";
  }
  // The browser's own refusal (cancelled, timed out) is said in the
  // page's words, kept in data-cancelled.
  function show(box, err) {
    var p = box && box.querySelector("[data-passkey-error]");
    if (!p) {
      return;
    }
    var browser = err && (err.name === "NotAllowedError" || err.name === "AbortError");
    p.textContent = browser ? p.getAttribute("data-cancelled") || err.message : err.message;
    p.hidden = false;
  }
  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-passkey-sign-in], [data-passkey-step]").forEach(function (el) {
      el.hidden = !supported;
    });
    if (!supported) {
      document.querySelectorAll("[data-passkey-unsupported]").forEach(function (el) {
        el.hidden = false;
      });
      document.querySelectorAll("[data-passkey-add] button").forEach(function (b) {
        b.disabled = true;
      });
    }
  });

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-passkey-login]");
    if (!button || !supported) {
      return;
    }
    var box = button.closest("[data-passkey-sign-in], [data-passkey-step]");
    var base = box.hasAttribute("data-passkey-step") ? "/login/code/passkey" : "/login/passkey";
    button.disabled = true;
    post(base + "/options", { csrf: csrf() })
      .then(function (ch) {
        ch.options.challenge = bytes(ch.options.challenge);
        ids(ch.options.allowCredentials);
        return navigator.credentials.get({ publicKey: ch.options }).then(function (cred) {
          return post(base, {
            csrf: csrf(),
            ceremony: ch.ceremony,
            next: button.getAttribute("data-next") || "",
            credential: asserted(cred)
          });
        });
      })
      .then(function (done) {
        window.location.assign(done.next || "/");
      })
      .catch(function (err) {
        button.disabled = false;
        show(box, err);
      });
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-passkey-add")) {
      return;
    }
    e.preventDefault();
    if (!supported) {
      return;
    }
    var box = form.closest("[data-passkeys]");
    var button = form.querySelector("button");
    var name = form.querySelector("input[name=name]").value;
    var password = form.querySelector("input[name=password]");
    button.disabled = true;
    // No password field: the account has none, and a recent sign-in is
    // the proof.
    post("/settings/passkeys/options", { csrf: csrf(), password: password ? password.value : "" })
      .then(function (ch) {
        var o = ch.options;
        o.challenge = bytes(o.challenge);
        o.user.id = bytes(o.user.id);
        ids(o.excludeCredentials);
        return navigator.credentials.create({ publicKey: o }).then(function (cred) {
          return post("/settings/passkeys", {
            csrf: csrf(),
            ceremony: ch.ceremony,
            name: name,
            credential: created(cred)
          });
        });
      })
      .then(function (done) {
        var codes = done.recovery_codes;
        if (!codes || !codes.length) {
          if (window.location.search === "?done=passkey_added") {
            window.location.reload();
          } else {
            window.location.assign("/settings?done=passkey_added#passkeys");
          }
          return;
        }
        // The first passkey turned the second step on: its recovery codes,
        // shown once.
        var shown = box.querySelector("[data-passkey-codes]");
        var list = shown.querySelector("ul");
        codes.forEach(function (code) {
          var li = document.createElement("li");
          var c = document.createElement("code");
          c.textContent = code;
          li.appendChild(c);
          list.appendChild(li);
        });
        form.hidden = true;
        shown.hidden = false;
        shown.scrollIntoView();
      })
      .catch(function (err) {
        button.disabled = false;
        if (password) {
          password.value = "";
        }
        show(box, err);
      });
  });
})();

// An event's time zone, when the person has not chosen one in their
// settings: the browser's own (the field stays editable).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-browser-zone]").forEach(function (el) {
    if (el.value) {
      return;
    }
    try {
      el.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      // Left empty: the server says a zone is needed.
    }
  });
});
