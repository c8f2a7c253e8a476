import { version } from "@kup/core";
console.log(version);
