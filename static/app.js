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
