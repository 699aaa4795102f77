import { createRouter, createWebHistory } from "vue-router";
import { session } from "./lib/session";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", redirect: () => (session.me?.role === "companion" ? "/studio" : "/companions") },
    { path: "/login", component: () => import("./views/LoginView.vue"), meta: { public: true } },
    { path: "/companions", component: () => import("./views/CompanionsView.vue"), meta: { public: true } },
    { path: "/companions/:id", component: () => import("./views/CompanionView.vue"), meta: { public: true } },
    { path: "/call", component: () => import("./views/CallView.vue") },
    { path: "/wallet", component: () => import("./views/WalletView.vue") },
    { path: "/studio", component: () => import("./views/StudioView.vue") },
    { path: "/me", component: () => import("./views/MeView.vue") },
    { path: "/admin", component: () => import("./views/AdminView.vue") },
    { path: "/apply", component: () => import("./views/ApplyView.vue") },
    { path: "/bookings", component: () => import("./views/BookingsView.vue") },
    { path: "/sessions", component: () => import("./views/SessionsView.vue") },
    { path: "/support", component: () => import("./views/SupportView.vue") },
    { path: "/support/:id", component: () => import("./views/TicketView.vue") },
    { path: "/rooms", component: () => import("./views/RoomsView.vue"), meta: { public: true } },
    { path: "/rooms/:id", component: () => import("./views/RoomView.vue"), meta: { public: true } },
    { path: "/:rest(.*)*", redirect: "/" },
  ],
});

router.beforeEach((to) => {
  if (!to.meta.public && session.ready && !session.me) {
    return { path: "/login", query: { next: to.fullPath } };
  }
  return true;
});
