import { createRouter, createWebHistory } from "vue-router";
import { landing, pageRole } from "./lib/landing";
import { session } from "./lib/session";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", redirect: () => landing(session.me?.role) },
    { path: "/login", component: () => import("./views/LoginView.vue"), meta: { public: true } },
    { path: "/welcome", component: () => import("./views/WelcomeView.vue") },
    { path: "/companions", component: () => import("./views/CompanionsView.vue"), meta: { public: true } },
    { path: "/companions/:id", component: () => import("./views/CompanionView.vue"), meta: { public: true } },
    { path: "/call", component: () => import("./views/CallView.vue") },
    {
      path: "/wallet",
      component: () => import("./views/WalletView.vue"),
      // a companion's 钱包 is their earnings (the studio's money tab), not the top-up screen
      beforeEnter: () => (session.me?.role === "companion" ? { path: "/studio", query: { tab: "money" } } : true),
    },
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
    { path: "/forbidden", component: () => import("./views/ForbiddenView.vue"), meta: { public: true } },
    { path: "/:rest(.*)*", component: () => import("./views/NotFoundView.vue"), meta: { public: true } },
  ],
});

router.beforeEach((to) => {
  if (!to.meta.public && session.ready && !session.me) {
    return { path: "/login", query: { next: to.fullPath } };
  }
  const role = pageRole(to.path);
  if (role && session.me && session.me.role !== role) {
    return { path: "/forbidden", query: { role } };
  }
  return true;
});
