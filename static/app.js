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
  function listen() {
    source = new EventSource(url);
    source.addEventListener("news", function (e) {
      try {
        show(JSON.parse(e.data));
      } catch (err) {
        // A message that is not ours changes nothing.
      }
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
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
