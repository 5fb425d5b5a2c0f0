// Demo page behaviour (a file, not inline script: the CSP allows 'self' only).
"use strict";
(function () {
  var form = document.getElementById("signup");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      document.getElementById("signup-result").hidden = false;
    });
  }
  var cart = document.getElementById("cart");
  var add = document.getElementById("add-item");
  var clear = document.getElementById("clear-items");
  var count = 0;
  if (cart && add) {
    add.addEventListener("click", function () {
      count += 1;
      var item = document.createElement("li");
      item.textContent = "Item " + count + " added at " + new Date().toLocaleTimeString();
      cart.appendChild(item);
    });
  }
  if (cart && clear) {
    clear.addEventListener("click", function () {
      cart.textContent = "";
    });
  }
})();
