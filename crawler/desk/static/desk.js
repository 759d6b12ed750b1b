// The preview's copy buttons: the layout's Markdown to the clipboard. Listening on the
// document keeps them working after htmx swaps the page.
"use strict";

function copyByHand(text) {
  var area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  var copied = false;
  try {
    copied = document.execCommand("copy");
  } catch (error) {
    copied = false;
  }
  document.body.removeChild(area);
  return copied;
}

document.addEventListener("click", function (event) {
  var button = event.target.closest("button.copy");
  if (!button) {
    return;
  }
  var text = document.getElementById(button.dataset.target).textContent;
  var done = function (copied) {
    button.textContent = copied ? "Copied" : "Copy failed: select the text and copy it";
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(copyByHand(text)); });
  } else {
    done(copyByHand(text));
  }
});
